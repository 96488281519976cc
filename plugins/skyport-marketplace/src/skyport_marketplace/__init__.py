"""SkyPort marketplace: app catalogs from many stores, installed through deployer plugins."""
