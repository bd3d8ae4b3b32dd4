// What the gateway owes for the simulator's data, built from the simulator's own records.
import { BULK_DEVICES, generatedUser } from '../../src/demo/data.js'

/** The JSON the gateway makes of a generated bulk user (ids 1000..999999). */
export function expectedBulkBody (userId: number) {
  return {
    userId,
    devices: generatedUser(userId, BULK_DEVICES).devices.map((d) => ({
      id: d.device_id,
      type: d.device_type,
      ipAddress: d.ipaddr === '' ? null : d.ipaddr,
      port: d.port,
      username: d.username,
      callerId: d.callerid,
      deviceGroupId: d.devicegroup_id,
      primary: d.primary_device === 'yes'
    }))
  }
}
