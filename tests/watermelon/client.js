// A stock WatermelonDB app, without a phone: LokiJS in memory, synchronize() over fetch.
//
//   node client.js <server base URL> <bearer token>
//
// Reads one JSON command per line on stdin and answers one JSON line on stdout:
//   {"op": "sync"}                       synchronize(); an app retries once when it throws
//   {"op": "sync", "pause_before_push": true}
//                                        before the first push, print {"event": "before_push"}
//                                        and wait for a {"op": "continue"} line
//   {"op": "set", "table", "id", "values"}   a local edit (like record.update)
//   {"op": "create", "table", "values"}      a local create with a UUIDv7 ID
//   {"op": "create", "table", "values", "id"}    ... with this ID instead (any string)
//   {"op": "create", "table", "values", "id", "synced": true}
//                                        a record the app believes the server has (e.g.
//                                        synced before the server was restored from a backup)
//   {"op": "answer_offer", "id", "accept": true|false, "reason"}
//                                        the technician answers a job offer (offline until
//                                        the next sync): state, reason and answered_at
//   {"op": "quit"}
// Every answer carries the local database ("db": table -> [raw records without
// _status/_changed]), the HTTP calls made ("calls") and what WatermelonDB logged
// as warnings or errors ("logged"), so a contract violation cannot go unnoticed.
'use strict'

const crypto = require('crypto')
const readline = require('readline')
const { Database, Model } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { synchronize } = require('@nozbe/watermelondb/sync')
const { setGenerator } = require('@nozbe/watermelondb/utils/common/randomId')
const { schema, tables, REPLICA_SCHEMA } = require('./schema')

const [baseUrl, token] = process.argv.slice(2)
const logged = []
// stdout carries the answers; WatermelonDB's chatter goes to stderr.
for (const level of ['log', 'info', 'debug']) {
  console[level] = (...args) => process.stderr.write(`${args.map(String).join(' ')}\n`)
}
for (const level of ['warn', 'error']) {
  console[level] = (...args) => logged.push(`${level}: ${args.map(String).join(' ')}`)
}

// Fieldline IDs are UUIDv7 (PROTOCOL.md § 3.2): 48-bit milliseconds, version, variant, random.
setGenerator(() => {
  const bytes = crypto.randomBytes(16)
  bytes.writeUIntBE(Date.now(), 0, 6)
  bytes[6] = (bytes[6] & 0x0f) | 0x70
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
})

const modelClasses = tables.map((table) => {
  const model = class extends Model {}
  model.table = table
  return model
})
const adapter = new LokiJSAdapter({ schema, useWebWorker: false, useIncrementalIndexedDB: false })
const database = new Database({ adapter, modelClasses })

const calls = []
let pauseBeforePush = false
let resumePush = null

async function call(method, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  calls.push({ method, path: path.split('?')[0], status: response.status })
  if (!response.ok) {
    throw new Error(`${method} ${response.status} ${text}`)
  }
  return JSON.parse(text)
}

async function pullChanges({ lastPulledAt, schemaVersion, migration }) {
  // schema_version is the app's own WatermelonDB schema (it has local-only tables);
  // replica_schema is the Fieldline replica schema its synced tables follow.
  const query = `last_pulled_at=${lastPulledAt}&schema_version=${schemaVersion}&replica_schema=${REPLICA_SCHEMA}&migration=${encodeURIComponent(JSON.stringify(migration))}`
  const { changes, timestamp } = await call('GET', `/v1/sync/watermelon?${query}`)
  return { changes, timestamp }
}

async function pushChanges({ changes, lastPulledAt }) {
  if (pauseBeforePush) {
    pauseBeforePush = false
    await new Promise((resolve) => {
      resumePush = resolve
      answer({ event: 'before_push' })
    })
  }
  // The body WatermelonDB's documentation shows: the changes alone.
  await call('POST', `/v1/sync/watermelon?last_pulled_at=${lastPulledAt}&replica_schema=${REPLICA_SCHEMA}`, changes)
}

async function sync() {
  const args = { database, pullChanges, pushChanges, sendCreatedAsUpdated: true }
  try {
    await synchronize(args)
    return { attempts: 1 }
  } catch (error) {
    // What an app does when sync fails (e.g. sync.pull_first): synchronize() again.
    await synchronize(args)
    return { attempts: 2, first_error: String(error.message).slice(0, 500) }
  }
}

async function dump() {
  const db = {}
  for (const table of tables) {
    const records = await database.get(table).query().fetch()
    db[table] = records
      .map((record) => {
        const { _status, _changed, ...raw } = record._raw
        return { ...raw, _status }
      })
      .sort((a, b) => (a.id < b.id ? -1 : 1))
  }
  return db
}

async function run(command) {
  if (command.op === 'sync') {
    pauseBeforePush = Boolean(command.pause_before_push)
    return sync()
  }
  if (command.op === 'set') {
    const record = await database.get(command.table).find(command.id)
    await database.write(() =>
      record.update((r) => {
        for (const [column, value] of Object.entries(command.values)) r._setRaw(column, value)
      }),
    )
    return {}
  }
  if (command.op === 'answer_offer') {
    // What an app's accept/decline buttons do; the server takes it as answer_offer.
    const offer = await database.get('offers').find(command.id)
    await database.write(() =>
      offer.update((o) => {
        o._setRaw('state', command.accept ? 'accepted' : 'declined')
        o._setRaw('reason', command.accept ? null : command.reason)
        o._setRaw('answered_at', Date.now())
      }),
    )
    return {}
  }
  if (command.op === 'create' && command.synced) {
    const collection = database.get(command.table)
    const raw = { ...command.values, id: command.id, _status: 'synced', _changed: '' }
    await database.write(() => database.batch(collection.prepareCreateFromDirtyRaw(raw)))
    return { id: command.id }
  }
  if (command.op === 'create') {
    const record = await database.write(() =>
      database.get(command.table).create((r) => {
        if (command.id) r._raw.id = command.id
        for (const [column, value] of Object.entries(command.values)) r._setRaw(column, value)
      }),
    )
    return { id: record.id }
  }
  throw new Error(`unknown op ${command.op}`)
}

function answer(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}

const lines = readline.createInterface({ input: process.stdin })
let queue = Promise.resolve()
lines.on('line', (line) => {
  const command = JSON.parse(line)
  if (command.op === 'continue') {
    resumePush()
    return
  }
  if (command.op === 'quit') {
    process.exit(0) // LokiJS keeps the event loop alive
  }
  queue = queue.then(async () => {
    try {
      const result = await run(command)
      answer({ ok: true, ...result, db: await dump(), calls: calls.splice(0), logged: logged.splice(0) })
    } catch (error) {
      answer({ ok: false, error: String(error.stack || error), calls: calls.splice(0), logged: logged.splice(0) })
    }
  })
})
lines.on('close', () => process.exit(0))
