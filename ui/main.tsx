// UI entry, bundled and inlined into dist/ui.html (Figma loads the UI as one HTML string).
import { render } from "preact";
import { App } from "./app.tsx";
import { Session } from "./session/index.ts";

const session = new Session();
render(<App session={session} />, document.getElementById("app")!);
session.start();
