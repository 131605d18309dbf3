/**
 * The client side of the test mint's static-auth issuance, shared by the mint's tests: a cashu-ts request function
 * over fetch that adds `Clear-auth` (what a static-auth client sends).
 */
import { JSONInt, MintOperationError, type RequestFn } from "@cashu/cashu-ts"

export const clearAuth =
  (token: string): RequestFn =>
  async <T>(args: Parameters<RequestFn>[0]): Promise<T> => {
    const body = args.requestBody === undefined ? undefined : JSONInt.stringify(args.requestBody)
    const response = await fetch(args.endpoint, {
      method: args.method ?? "GET",
      headers: { ...args.headers, "Content-Type": "application/json", "Clear-auth": token },
      ...(body === undefined ? {} : { body })
    })
    const json = (await response.json()) as { readonly code?: number; readonly detail?: string }
    if (!response.ok) throw new MintOperationError(json.code ?? 0, json.detail ?? "")
    return json as T
  }
