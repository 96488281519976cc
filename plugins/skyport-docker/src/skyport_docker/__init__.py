"""SkyPort's Docker plugin: containers, images, volumes, networks, stacks, engines."""
