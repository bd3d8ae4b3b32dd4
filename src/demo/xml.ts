// How the simulator writes MOR's XML: the same element names, order and error shapes MOR uses.
import type { SimDevice } from './data.js'

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }
export const escapeXml = (value: string) => value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c)

const FIELDS = ['device_id', 'device_type', 'devicegroup_id', 'primary_device', 'username', 'secret', 'ipaddr', 'port', 'callerid'] as const

function deviceXml (device: SimDevice): string {
  let xml = '    <device>\n'
  for (const field of FIELDS) {
    const value = device[field]
    if (value !== undefined) xml += `      <${field}>${escapeXml(String(value))}</${field}>\n`
  }
  return xml + '    </device>\n'
}

export type ErrorShape = 'bare' | 'page'

export function devicesXml (devices: SimDevice[]): string {
  const body = devices.length === 0 ? '  <devices/>\n' : `  <devices>\n${devices.map(deviceXml).join('')}  </devices>\n`
  return `<?xml version="1.0" encoding="UTF-8"?>\n<page>\n${body}</page>\n`
}

export function errorXml (message: string, shape: ErrorShape): string {
  const error = `<error>${escapeXml(message)}</error>`
  return shape === 'bare'
    ? `<?xml version="1.0" encoding="UTF-8"?>\n${error}\n`
    : `<?xml version="1.0" encoding="UTF-8"?>\n<page>\n  <status>\n    ${error}\n  </status>\n</page>\n`
}

/** MOR's "XML API Extension" setting, for old .NET clients, wraps the answer in HTML tags. */
export function withHtmlWrapper (xml: string): string {
  return `<head></head><body>${xml.replace(/^<\?xml[^>]*>\s*/, '')}</body>`
}
