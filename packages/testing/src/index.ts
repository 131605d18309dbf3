/** @portal/testing */
export {}
