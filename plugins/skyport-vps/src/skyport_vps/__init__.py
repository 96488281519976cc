"""skyport-vps: a fleet of servers over SSH."""
