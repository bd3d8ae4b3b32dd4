// The range of MOR's ids, on its own so the field kinds (catalogue/fields.ts) and the device
// schemas built from them (schemas/device.ts) can both read it without importing each other.

/** MOR's ids are INT(11): at most 2147483647. */
export const MAX_USER_ID = 2_147_483_647
