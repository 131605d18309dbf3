/** @portal/store */
export {}
