// A Node relying party: is LEAF issued and signed by ROOT, and is it in its validity period now?
// Usage: node check.mjs ROOT.pem LEAF.pem
// Node (OpenSSL underneath) reads JPKI certificates, but prints the signing certificate's otherNames
// (the four basic details) as "<unsupported>": read them from the DER (e.g. with asn1.js or pkijs).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const root = new X509Certificate(readFileSync(process.argv[2]));
const leaf = new X509Certificate(readFileSync(process.argv[3]));
const now = new Date();
const issued = leaf.checkIssued(root) && leaf.verify(root.publicKey);
const current = new Date(leaf.validFrom) <= now && now <= new Date(leaf.validTo);
console.log(JSON.stringify({ issued, current, subject: leaf.subject, subjectAltName: leaf.subjectAltName ?? null }));
process.exit(issued && current ? 0 : 1);
