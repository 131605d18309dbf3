/**
 * `portal keys …`: Nostr keys without a daemon. `generate` makes a fresh key, `convert` shows a key in every
 * encoding (hex ⇄ npub, and the public key of a secret), `from-mnemonic` derives the NIP-06 key of a BIP-39
 * mnemonic (`m/44'/1237'/<account>'/0/0`, as the Portal app).
 *
 * A secret key is printed only with `--show-secret`, or written to a new file with mode 0600 (`--out`); it is
 * never taken from the command line as an argument except `convert`'s, which warns. Mnemonics are read from a file,
 * `PORTAL_MNEMONIC` or stdin.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Keys from "@portal/nostr/Keys"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Output from "../Output.js"
import * as Secrets from "../Secrets.js"

const showSecret = Options.boolean("show-secret").pipe(
  Options.withDescription("Also print the secret key (hex and nsec) on stdout")
)
const out = Options.file("out").pipe(
  Options.optional,
  Options.withDescription("Write the secret key (nsec) to this new file, mode 0600")
)

/** Prints a key pair; the secret only when asked, else into `--out` when given. */
const emit = (
  flags: Output.Flags & { readonly showSecret: boolean; readonly out: Option.Option<string> },
  keys: Keys.KeyPair
) =>
  Effect.gen(function* () {
    const npub = Keys.npub(keys.publicKey)
    if (Option.isSome(flags.out)) yield* Secrets.writeNew(flags.out.value, `${Redacted.value(Keys.nsec(keys))}\n`)
    const secret = flags.showSecret
      ? { secret_key: Redacted.value(Keys.secretHex(keys)), nsec: Redacted.value(Keys.nsec(keys)) }
      : {}
    const file = Option.match(flags.out, { onNone: () => ({}), onSome: (path) => ({ file: path }) })
    yield* Output.print(
      flags,
      [
        `public key  ${keys.publicKey}`,
        `npub        ${npub}`,
        ...(flags.showSecret ? [`secret key  ${secret.secret_key}`, `nsec        ${secret.nsec}`] : []),
        ...Option.match(flags.out, { onNone: () => [], onSome: (path) => [`secret key written to ${path} (0600)`] })
      ],
      { public_key: keys.publicKey, npub, ...secret, ...file }
    )
    if (!flags.showSecret && Option.isNone(flags.out)) {
      yield* Output.note(flags, "the secret key was not printed: use --show-secret or --out <file>")
    }
  })

/** @category commands */
export const generate = Command.make("generate", { ...Output.flags, showSecret, out }, (flags) =>
  Output.run(flags)(Effect.flatMap(Keys.generate, (keys) => emit(flags, keys)))
).pipe(
  Command.withDescription(
    Output.help(
      "Generates a fresh Nostr key pair and prints the public key (hex and npub).",
      "portal keys generate --out ./user.nsec",
      "portal keys generate --show-secret --json"
    )
  )
)

const keyArg = Args.text({ name: "key" }).pipe(
  Args.optional,
  Args.withDescription("A public key (hex, npub1…, nostr:npub1…) or a secret key (nsec1…)")
)
const secretFile = Options.file("secret-file").pipe(
  Options.optional,
  Options.withDescription("Read a secret key (hex or nsec) from this file instead")
)

/** @category commands */
export const convert = Command.make("convert", { ...Output.flags, key: keyArg, secretFile, showSecret }, (flags) =>
  Output.run(flags)(
    Effect.gen(function* () {
      const fromSecret = (text: string | Redacted.Redacted<string>) =>
        Effect.flatMap(Keys.fromSecret(text), (keys) => emit({ ...flags, out: Option.none() }, keys))
      if (Option.isSome(flags.secretFile)) {
        return yield* fromSecret(yield* Secrets.readFile(flags.secretFile.value))
      }
      if (Option.isNone(flags.key)) {
        return yield* new Output.CliError({ message: "key: give a key, or --secret-file <file>" })
      }
      const input = flags.key.value.trim()
      if (/^(nostr:)?nsec1/.test(input)) {
        yield* Output.note(
          flags,
          "warning: a secret key on the command line is visible to other users; use --secret-file"
        )
        return yield* fromSecret(Redacted.make(input.replace(/^nostr:/, "")))
      }
      const hex = Keys.publicKeyHexOf(input)
      if (Either.isLeft(hex)) return yield* new Output.CliError({ message: `key: ${hex.left}` })
      const publicKey = yield* Keys.parsePublicKey(hex.right)
      const npub = Keys.npub(publicKey)
      yield* Output.print(flags, [`public key  ${publicKey}`, `npub        ${npub}`], {
        public_key: publicKey,
        npub
      })
    })
  )
).pipe(
  Command.withDescription(
    Output.help(
      "Shows a key in every encoding: hex ⇄ npub for a public key; the public key of a secret key " +
        "(64-hex secrets only from --secret-file, since 64 hex characters could be either).",
      "portal keys convert npub1…",
      "portal keys convert --secret-file ./user.nsec --show-secret"
    )
  )
)

const mnemonicFile = Options.file("mnemonic-file").pipe(
  Options.optional,
  Options.withDescription("Read the mnemonic from this file (else env PORTAL_MNEMONIC, else stdin)")
)
const account = Options.integer("account").pipe(
  Options.withDefault(0),
  Options.withDescription("The NIP-06 account index (default 0)")
)

/** @category commands */
export const fromMnemonic = Command.make(
  "from-mnemonic",
  { ...Output.flags, mnemonicFile, account, showSecret, out },
  (flags) =>
    Output.run(flags)(
      Effect.gen(function* () {
        const mnemonic = Option.isSome(flags.mnemonicFile)
          ? yield* Secrets.readFile(flags.mnemonicFile.value)
          : yield* Config.option(Config.redacted("PORTAL_MNEMONIC")).pipe(
              Effect.flatMap(Option.match({ onNone: () => Secrets.readStdin("mnemonic"), onSome: Effect.succeed }))
            )
        const keys = yield* Keys.fromMnemonic(mnemonic, { account: flags.account })
        yield* emit(flags, keys)
      })
    )
).pipe(
  Command.withDescription(
    Output.help(
      "Derives the NIP-06 key (m/44'/1237'/<account>'/0/0) of a BIP-39 English mnemonic.",
      "portal keys from-mnemonic --mnemonic-file ./words.txt --out ./user.nsec"
    )
  )
)

/** @category commands */
export const command = Command.make("keys").pipe(
  Command.withDescription(
    Output.help("Nostr keys: generate, convert, derive from a mnemonic.", "portal keys generate --help")
  ),
  Command.withSubcommands([generate, convert, fromMnemonic])
)
