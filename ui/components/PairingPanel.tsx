// Asks once for the pairing code the server shows in its terminal. The code is the server's
// per-install secret; the plugin keeps it in figma.clientStorage (this computer, this user).
import { useState } from "preact/hooks";

export function PairingPanel(props: { reason: string; onPair(code: string): void }) {
  const [code, setCode] = useState("");
  return (
    // Not a <form>: Figma's sandboxed iframe may block form submission; Enter in the field pairs.
    <section class="pairing" onKeyDown={(e) => e.key === "Enter" && props.onPair(code)}>
      <h2>Pair with the Phototype server</h2>
      <p class="reason">{props.reason}</p>
      <p>
        Type the pairing code shown in the terminal where the server runs (<code>npm start</code> prints it;{" "}
        <code>npx phototype pair</code> in the Phototype folder prints it again). The plugin keeps it on this computer and asks only
        once.
      </p>
      <div class="row">
        <input
          type="text"
          class="code"
          value={code}
          placeholder="XXXX-XXXX-XXXX"
          aria-label="Pairing code"
          autocomplete="off"
          spellcheck={false}
          onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="button" class="primary pair" onClick={() => props.onPair(code)}>
          Pair
        </button>
      </div>
    </section>
  );
}
