// asc transform: gives the core's exports their Canonical-ABI names.
//   iface__fn_name        -> forge:core/iface@0.1.0#fn-name
//   post__iface__fn_name  -> cabi_post_forge:core/iface@0.1.0#fn-name
// (underscores in either part become '-'). Other exports (memory, cabi_realloc, forge_scratch)
// keep their names. The package and version come from wit/forge.wit's `package` line.
import { readFileSync } from 'node:fs';
import { Transform } from 'assemblyscript/transform';

const witText = readFileSync(new URL('../wit/forge.wit', import.meta.url), 'utf8');
const pkgMatch = /^\s*package\s+([a-z0-9-]+:[a-z0-9-]+)@([0-9][^;\s]*)\s*;/m.exec(witText);
if (!pkgMatch) throw new Error('cabi-transform: no `package ns:name@version;` line in wit/forge.wit');
const [, PKG, VERSION] = pkgMatch;

const kebab = (s) => s.replace(/_/g, '-');

/** The Canonical-ABI name of an AssemblyScript export name, or null to keep it. */
export function cabiName(name) {
  let m = /^post__([a-z0-9_]+?)__([a-z0-9_]+)$/.exec(name);
  if (m) return `cabi_post_${PKG}/${kebab(m[1])}@${VERSION}#${kebab(m[2])}`;
  m = /^([a-z0-9_]+?)__([a-z0-9_]+)$/.exec(name);
  if (m) return `${PKG}/${kebab(m[1])}@${VERSION}#${kebab(m[2])}`;
  return null;
}

export default class CabiNames extends Transform {
  afterCompile(module) {
    const b = this.binaryen;
    const renames = [];
    for (let i = 0, n = module.getNumExports(); i < n; i++) {
      const info = b.getExportInfo(module.getExportByIndex(i));
      if (info.kind !== b.ExternalFunction) continue;
      const to = cabiName(info.name);
      if (to) renames.push([info.name, info.value, to]);
    }
    for (const [from, internal, to] of renames) {
      module.removeExport(from);
      module.addFunctionExport(internal, to);
    }
  }
}
