/** @portal/server */
export {}
