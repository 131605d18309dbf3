/** @portal/api */
export {}
