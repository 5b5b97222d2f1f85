// The server's name and version, as /health and the welcome message report them.
import pkg from "../package.json" with { type: "json" };

export const SERVER_VERSION = `phototype/${pkg.version}`;
