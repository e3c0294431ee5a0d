#!/usr/bin/env node
/**
 * `npm run vendor` (also before start, test and build): puts the API reference's browser bundle
 * (`@scalar/api-reference`'s single-file `dist/browser/standalone.js`) into `public/vendor/`, where
 * the Worker serves it as a static asset for `/docs`. So the docs page loads no code from a CDN.
 *
 * The package itself pulls in ~290 MB of dependencies that the one prebuilt file does not need, so
 * this takes just its tarball from the npm registry (`npm pack`), pinned by version and checked
 * against the registry's sha512 integrity below, and extracts the one file. Nothing happens when the
 * file is already there for this version.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const package_name = "@scalar/api-reference";
const package_version = "1.72.1";
const package_integrity =
  "sha512-XpEJ0rfc/cXbCrR+iC4kK0o/WwX2dTtGQbT049OlPKAHD6IMIFdTeGz2r+M27P2EDWKyUITRm/NzlP8z2pw/Ow==";
const file_in_package = "package/dist/browser/standalone.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out_dir = join(root, "public", "vendor");
const out_file = join(out_dir, "scalar-api-reference.js");
const stamp_file = join(out_dir, "scalar-api-reference.version");

if (
  existsSync(out_file) &&
  existsSync(stamp_file) &&
  readFileSync(stamp_file, "utf8").trim() === `${package_version} ${package_integrity}`
) {
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), "quorum-ledger-vendor-"));
try {
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  execFileSync(npm, ["pack", `${package_name}@${package_version}`, "--pack-destination", scratch, "--silent"], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 120_000,
  });
  const tarball = join(scratch, `scalar-api-reference-${package_version}.tgz`);
  const digest = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  if (digest !== package_integrity) {
    throw new Error(
      `${package_name}@${package_version}: tarball integrity ${digest} is not the pinned ${package_integrity}`,
    );
  }
  execFileSync("tar", ["-xzf", tarball, "-C", scratch, file_in_package], { timeout: 60_000 });
  mkdirSync(out_dir, { recursive: true });
  copyFileSync(join(scratch, file_in_package), out_file);
  writeFileSync(stamp_file, `${package_version} ${package_integrity}\n`);
  process.stderr.write(`vendored ${package_name}@${package_version} (standalone bundle) into public/vendor/\n`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
