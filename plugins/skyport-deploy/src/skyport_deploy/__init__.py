"""SkyPort deploy: detect a project and run it on Docker or PM2 through the deployers."""
