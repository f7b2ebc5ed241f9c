// Keygrant's page. Views are lit-html templates (ui/src/views), rendered from one state
// (state.ts) by the controller (controller.ts), the only module that calls the backend.
//
// Why lit-html: it is tiny (about 7 KB minified and gzipped, no runtime dependencies), needs no
// build step, compiler or JSX (templates are plain tagged template strings that TypeScript
// checks and Vite bundles as-is), and it patches by part: re-rendering the page after a state
// change updates only the text nodes, attributes and properties whose values changed. Elements
// stay in place, so focus, the caret, half-typed text, scroll position, open <details> and a
// screen reader's place survive updates such as an account's balances arriving or the
// one-minute token-health tick. It adds no inline scripts or styles, so the CSP stays strict.
import { mount } from "./mount";

const root = document.getElementById("app");
if (!root) throw new Error("the page has no #app element");
mount(root);
