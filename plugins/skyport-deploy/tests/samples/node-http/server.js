// A Node.js web server using only the standard http module: it listens on $PORT.
const http = require('http');
const { version } = require('./package.json');

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ app: 'node', version, greeting: process.env.GREETING || null }));
});
server.listen(Number(process.env.PORT), process.env.HOST, () => {
  console.log(`hello-node ${version} listening on ${process.env.PORT}`);
});
