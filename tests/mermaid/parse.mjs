// Parses each file named on the command line with Mermaid's own parser, as GitHub's renderer
// would before drawing it, and prints the diagram type of each; exits 1 at the first that does
// not parse. Mermaid wants a DOM even to parse (DOMPurify), so jsdom gives it one.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false });

for (const file of process.argv.slice(2)) {
  const text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  try {
    const parsed = await mermaid.parse(text);
    console.log(`${file}: ${parsed.diagramType}`);
  } catch (error) {
    console.error(`${file}: ${error}`);
    process.exit(1);
  }
}
