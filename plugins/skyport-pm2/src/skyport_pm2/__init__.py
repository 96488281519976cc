"""skyport-pm2: PM2 processes managed through the PM2 daemon's RPC and event sockets."""
