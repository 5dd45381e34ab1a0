// Uploads one photo to Fieldline with a stock tus-js-client, as a browser or React Native
// app would: creation-with-upload, then 512 KiB PATCHes. Prints one JSON line on success.
//   node upload.js <endpoint> <access token> <file>
const fs = require('fs')
const crypto = require('crypto')
const tus = require('tus-js-client')

const [endpoint, token, path] = process.argv.slice(2)
const data = fs.readFileSync(path)
let accepted = 0

const upload = new tus.Upload(data, {
  endpoint,
  headers: { Authorization: `Bearer ${token}` },
  metadata: {
    sha256: crypto.createHash('sha256').update(data).digest('hex'),
    filetype: 'image/jpeg',
    filename: 'pump.jpg',
  },
  chunkSize: 512 * 1024,
  uploadDataDuringCreation: true,
  retryDelays: [0, 250, 1000],
  onChunkComplete: (_size, bytesAccepted) => { accepted = bytesAccepted },
  onError: (error) => {
    console.error(String(error))
    process.exit(1)
  },
  onSuccess: () => {
    console.log(JSON.stringify({ url: upload.url, offset: accepted }))
  },
})
upload.start()
