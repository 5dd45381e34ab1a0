// The app's local schema: the tables and columns Fieldline sends (api/sync/watermelon/records.py).
// Timestamps are numbers (epoch milliseconds); every column is optional so nulls stay nulls.
'use strict'

const { appSchema, tableSchema } = require('@nozbe/watermelondb')

const TIMESTAMPED = 'created_at:number updated_at:number'
const EVIDENCE = 'work_order_id author_kind author_id device_id created_at:number occurred_at:number'
const VOIDS = 'voided_at:number voided_by void_reason'

const COLUMNS = {
  work_orders: `number title description customer_id site_id category_id priority status
    assignee_id requested_start:number requested_end:number scheduled_start:number
    scheduled_end:number sla_due_at:number resolution source actual_start:number
    actual_end:number completed_at:number closed_at:number cancelled_at:number current_steps
    ${TIMESTAMPED}`,
  work_order_assets: 'work_order_id asset_id',
  customers: `code name name_en tier phone email notes active:boolean ${TIMESTAMPED}`,
  contacts: `customer_id name name_en job_title phone email is_primary:boolean ${TIMESTAMPED}`,
  sites: `customer_id name name_en address address_en city lat:number lon:number access_notes
    timezone active:boolean ${TIMESTAMPED}`,
  assets: `site_id customer_id name name_en manufacturer model serial_number barcode_value
    barcode_symbology installed_on warranty_ends_on notes active:boolean gs1_gtin gs1_serial
    gs1_lot gs1_expires_on provisional:boolean ${TIMESTAMPED}`,
  categories: `parent_id level:number code name name_en sort_order:number active:boolean
    ${TIMESTAMPED}`,
  status_changes: `work_order_id action from_status to_status reason actor_kind actor_id
    occurred_at:number recorded_at:number`,
  notes: `${EVIDENCE} body visibility ${VOIDS}`,
  parts_used: `${EVIDENCE} description quantity unit part_number asset_id ${VOIDS}`,
  readings: `${EVIDENCE} metric value unit taken_at:number asset_id ${VOIDS}`,
  time_entries: `${EVIDENCE} activity started_at:number ended_at:number note ${VOIDS}`,
  photos: `${EVIDENCE} sha256 content_type size:number caption taken_at:number asset_id note_id
    state ${VOIDS}`,
  // Jobs offered to this technician: the app answers one by setting state to
  // 'accepted' or 'declined' (with a reason) and answered_at (client.js answer_offer).
  offers: `work_order_id technician_id attempt:number state number title site_address
    distance_m:number travel_s:number score:number offered_at:number expires_at:number
    answered_at:number reason ${TIMESTAMPED}`,
  // Read-only: the server ignores pushes to these. JSON members arrive as text.
  asset_history: `number title status priority category_id site_id resolution
    created_at:number completed_at:number closed_at:number cancelled_at:number asset_ids`,
  conflicts: `code table_name entity_id field server device kept mutation device_id technician_id
    state resolution resolved_value resolved_by resolved_at:number created_at:number`,
  quarantine: `device_id technician_id seq:number mutation work_order_id code field detail state
    quarantined_at:number settled_by settled_at:number`,
}

// Fieldline's replica schema these synced tables follow (PROTOCOL.md § 2), sent to the
// server as replica_schema: independent of the app's own schema version below.
const REPLICA_SCHEMA = 1
// The app's own table, never synced: the server neither sends nor accepts it.
const LOCAL_ONLY = { drafts: 'work_order_id text' }

const tables = Object.keys(COLUMNS)
const schema = appSchema({
  version: 3, // the app's schema: it grew with local-only tables, Fieldline's did not
  tables: [...tables, ...Object.keys(LOCAL_ONLY)].map((name) =>
    tableSchema({
      name,
      columns: (COLUMNS[name] || LOCAL_ONLY[name])
        .split(/\s+/)
        .filter(Boolean)
        .map((spec) => {
          const [column, type = 'string'] = spec.split(':')
          // WatermelonDB's own created_at/updated_at must be non-optional numbers.
          const special = column === 'created_at' || column === 'updated_at'
          return { name: column, type, isOptional: !special }
        }),
    }),
  ),
})

module.exports = { schema, tables: [...tables, ...Object.keys(LOCAL_ONLY)], REPLICA_SCHEMA }
