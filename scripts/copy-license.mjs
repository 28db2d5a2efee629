// A publishable package's prepack/postpack step: npm packs the LICENSE file of the package's own
// directory, and the one license text lives at the repository root. Run from the package dir.
//   node ../../scripts/copy-license.mjs            copy <repo>/LICENSE to ./LICENSE
//   node ../../scripts/copy-license.mjs --remove   remove ./LICENSE again (after npm pack)
import { copyFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const source = fileURLToPath(new URL("../LICENSE", import.meta.url));
if (process.argv.includes("--remove")) rmSync("LICENSE", { force: true });
else copyFileSync(source, "LICENSE");
