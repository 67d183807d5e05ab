// The Azure Blob side of the test lab, done with the official SDK (@azure/storage-blob) against
// Azurite: create a container, hand out container SAS URLs (good, expired, read-only), and read
// back what cmgdiag uploaded. Azurite's account and key are the emulator's published well-known ones.
//
//   node lab.js sas URL CONTAINER [--perm racwl] [--expired] [--no-create]   -> prints a SAS URL
//   node lab.js list URL CONTAINER [DIR]   -> JSON list of blobs; with DIR also downloads them
//   node lab.js delete URL CONTAINER       -> deletes the container
// URL is the account endpoint, e.g. https://127.0.0.1:10000/devstoreaccount1
"use strict";
// Debian 12's Node.js 18 has Web Crypto only as require("crypto").webcrypto; the SDK's helpers
// expect the global of Node.js 20.
if (!globalThis.crypto) globalThis.crypto = require("crypto").webcrypto;
const fs = require("fs");
const path = require("path");
const {
  BlobServiceClient, StorageSharedKeyCredential, ContainerSASPermissions, generateBlobSASQueryParameters,
} = require("@azure/storage-blob");

const ACCOUNT = "devstoreaccount1";
const KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

async function main(argv) {
  const [cmd, url, container, ...rest] = argv;
  if (!cmd || !url || !container) throw new Error("usage: node lab.js sas|list|delete URL CONTAINER ...");
  const cred = new StorageSharedKeyCredential(ACCOUNT, KEY);
  const svc = new BlobServiceClient(url, cred);
  const cc = svc.getContainerClient(container);
  if (cmd === "sas") {
    let perm = "racwl", expired = false, create = true;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === "--perm") perm = rest[++i];
      else if (rest[i] === "--expired") expired = true;
      else if (rest[i] === "--no-create") create = false;
      else throw new Error("unknown option " + rest[i]);
    }
    if (create) await cc.createIfNotExists();
    const now = Date.now();
    const startsOn = new Date(now - (expired ? 48 : 0.25) * 3600e3);
    // a good SAS lasts as an admin issues one (a year): one that ends within 30 days is a warning
    const expiresOn = new Date(now + (expired ? -24 : 400 * 24) * 3600e3);
    const sas = generateBlobSASQueryParameters(
      { containerName: container, permissions: ContainerSASPermissions.parse(perm), startsOn, expiresOn },
      cred).toString();
    process.stdout.write(`${cc.url}?${sas}\n`);
  } else if (cmd === "list") {
    const dir = rest[0];
    if (dir) fs.mkdirSync(dir, { recursive: true });
    const out = [];
    for await (const b of cc.listBlobsFlat()) {
      const item = {
        name: b.name, size: b.properties.contentLength,
        content_encoding: b.properties.contentEncoding || null, content_type: b.properties.contentType || null,
      };
      if (dir) {
        // Raw bytes as stored: the SDK must not decompress them.
        const buf = await cc.getBlobClient(b.name).downloadToBuffer();
        item.file = path.join(dir, b.name.replace(/\//g, "_"));
        fs.writeFileSync(item.file, buf);
      }
      out.push(item);
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  } else if (cmd === "delete") {
    await cc.deleteIfExists();
  } else {
    throw new Error("unknown command " + cmd);
  }
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`lab.js: ${e.message}\n`);
  process.exit(1);
});
