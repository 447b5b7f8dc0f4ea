// Interop checker for sceau's XAdES signatures, on xadesjs (brief §3.2).
//
//   node verify.js FILE.xml [--data URI=PATH ...]
//
// Prints one JSON line per ds:Signature (counter-signatures included) and
// then "RESULT: VALID" or "RESULT: INVALID"; exits 0 only when every
// signature passes. Per signature it checks:
//  - XMLDSig core through SignedXml.Verify(key), with the key of the
//    ds:X509Certificate whose digest is SigningCertificateV2/CertDigest
//    (never KeyInfo's first key: xadesjs would trust a KeyValue);
//  - exactly one Reference of Type ...#SignedProperties, whose URI names
//    the SignedProperties of the one QualifyingProperties targeting
//    "#<Signature Id>"; no ds:KeyValue;
//  - SigningTime present once, SigningCertificateV2 present once;
//  - one DataObjectFormat per data reference, naming that Reference's Id.
// Detached data is served from the files given with --data.
import { readFileSync } from 'node:fs';
import { webcrypto, createHash } from 'node:crypto';
import { DOMParser, XMLSerializer, DOMImplementation } from '@xmldom/xmldom';
import * as xpath from 'xpath';
import * as xadesjs from 'xadesjs';
import * as xmldsig from 'xmldsigjs';

const DS = 'http://www.w3.org/2000/09/xmldsig#';
const XADES = 'http://uri.etsi.org/01903/v1.3.2#';
const T_SP = 'http://uri.etsi.org/01903#SignedProperties';
const T_CS = 'http://uri.etsi.org/01903#CountersignedSignature';
const DIGESTS = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};

xadesjs.Application.setEngine('NodeJS', webcrypto);
xadesjs.setNodeDependencies({ XMLSerializer, DOMParser, DOMImplementation, xpath });

const args = process.argv.slice(2);
if (args.length < 1) {
  console.error('usage: node verify.js FILE.xml [--data URI=PATH ...]');
  process.exit(2);
}
const file = args[0];
const detached = {};
for (let i = 1; i < args.length; i++) {
  if (args[i] === '--data' && i + 1 < args.length) {
    const kv = args[++i];
    const eq = kv.indexOf('=');
    const buf = readFileSync(kv.slice(eq + 1));
    detached[kv.slice(0, eq)] = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  } else {
    console.error(`unknown argument ${args[i]}`);
    process.exit(2);
  }
}

const text = readFileSync(file, 'utf8');
const doc = new DOMParser().parseFromString(text, 'application/xml');

function elements(root, ns, name) {
  const out = [];
  const walk = (n) => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1) continue;
      if (c.namespaceURI === ns && c.localName === name) out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}
function children(n, ns, name) {
  const out = [];
  for (let c = n ? n.firstChild : null; c; c = c.nextSibling)
    if (c.nodeType === 1 && c.namespaceURI === ns && c.localName === name) out.push(c);
  return out;
}
const child = (n, ns, name) => children(n, ns, name)[0] || null;
const b64 = (n) => (n ? n.textContent.replace(/\s+/g, '') : '');
function byId(id) {
  const all = [];
  const walk = (n) => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1) continue;
      if (c.getAttribute('Id') === id) all.push(c);
      walk(c);
    }
  };
  walk(doc);
  return all;
}

async function checkOne(sigEl, index) {
  const r = { index, id: sigEl.getAttribute('Id') };
  try {
    const si = child(sigEl, DS, 'SignedInfo');
    const refs = children(si, DS, 'Reference');
    r.keyValuePresent = elements(sigEl, DS, 'KeyValue').length > 0;
    // QualifyingProperties targeting this signature, in its own Objects.
    const qps = [];
    for (const o of children(sigEl, DS, 'Object'))
      for (const q of children(o, XADES, 'QualifyingProperties'))
        if (q.getAttribute('Target') === `#${r.id}`) qps.push(q);
    r.qualifyingProperties = qps.length;
    const sp = qps.length === 1 ? child(qps[0], XADES, 'SignedProperties') : null;
    const spRefs = refs.filter((x) => x.getAttribute('Type') === T_SP);
    r.signedPropertiesRefs = spRefs.length;
    r.spRefMatches = !!sp && spRefs.length === 1 && spRefs[0].getAttribute('URI') === `#${sp.getAttribute('Id')}`;
    const ssp = child(sp, XADES, 'SignedSignatureProperties');
    r.signingTime = children(ssp, XADES, 'SigningTime').map((n) => n.textContent)[0] || null;
    const scv2 = children(ssp, XADES, 'SigningCertificateV2');
    r.signingCertificateV2 = scv2.length;
    // DataObjectFormat for every data reference.
    const dataRefs = refs.filter((x) => x.getAttribute('Type') !== T_SP && x.getAttribute('Type') !== T_CS);
    const dofs = children(child(sp, XADES, 'SignedDataObjectProperties'), XADES, 'DataObjectFormat');
    r.dataObjectFormats = dofs.length;
    r.dofMatch = dataRefs.every((ref) => dofs.filter((d) =>
      d.getAttribute('ObjectReference') === `#${ref.getAttribute('Id')}` &&
      children(d, XADES, 'MimeType').length === 1).length === 1);
    const usp = child(child(qps[0], XADES, 'UnsignedProperties'), XADES, 'UnsignedSignatureProperties');
    r.unsigned = usp ? Array.from(usp.childNodes).filter((n) => n.nodeType === 1).map((n) => n.localName) : [];

    // The signer's certificate: the one SigningCertificateV2 names.
    const cd = child(child(scv2[0], XADES, 'Cert'), XADES, 'CertDigest');
    const alg = DIGESTS[child(cd, DS, 'DigestMethod')?.getAttribute('Algorithm')];
    const want = b64(child(cd, DS, 'DigestValue'));
    let certB64 = null;
    for (const c of elements(child(sigEl, DS, 'KeyInfo'), DS, 'X509Certificate')) {
      const der = Buffer.from(b64(c), 'base64');
      if (alg && createHash(alg).update(der).digest('base64') === want) certB64 = b64(c);
    }
    r.signingCertFound = !!certB64;

    // xadesjs 2.6.8 reads ArchiveTimeStamp only in the 1.3.2 namespace
    // and calls the xades141 one malformed: the xades141 unsigned
    // properties (not covered by the XMLDSig core) are listed, taken out
    // before xadesjs reads the signature, and checked elsewhere (openssl
    // ts -verify over an independently recomputed input).
    const XADES141 = 'http://uri.etsi.org/01903/v1.4.1#';
    r.xades141 = [];
    if (usp) {
      for (const n of Array.from(usp.childNodes)) {
        if (n.nodeType === 1 && n.namespaceURI === XADES141) {
          r.xades141.push(n.localName);
          usp.removeChild(n);
        }
      }
    }
    // xadesjs: load the signature and check its properties as it reads them.
    const signed = new xadesjs.SignedXml(doc);
    signed.LoadXml(sigEl);
    const xst = signed.SignedProperties?.SignedSignatureProperties?.SigningTime?.Value;
    r.xadesjsSigningTime = xst ? new Date(xst).toISOString() : null;
    signed.contentHandler = async (ref) => {
      const uri = ref.Uri || '';
      if (uri && uri[0] !== '#') return detached[uri];
      if (ref.Type === T_CS) {
        const t = byId(uri.slice(1));
        return t.length === 1 ? t[0] : undefined;
      }
      return undefined;
    };
    let coreValid = false;
    if (certB64) {
      const x = new xmldsig.X509Certificate(Buffer.from(certB64, 'base64'));
      const key = await x.exportKey(signed.Algorithm);
      coreValid = await signed.Verify({ key });
    }
    r.coreValid = coreValid;
    r.ok = coreValid && !r.keyValuePresent && r.qualifyingProperties === 1 && r.spRefMatches &&
      !!r.signingTime && !!r.xadesjsSigningTime && r.signingCertificateV2 === 1 && r.signingCertFound &&
      r.dofMatch && dofs.length === dataRefs.length;
  } catch (e) {
    r.error = String(e && e.message ? e.message : e);
    r.ok = false;
  }
  return r;
}

const sigs = elements(doc, DS, 'Signature');
let allOk = sigs.length > 0;
for (let i = 0; i < sigs.length; i++) {
  const r = await checkOne(sigs[i], i);
  console.log(JSON.stringify(r));
  if (!r.ok) allOk = false;
}
console.log(`RESULT: ${allOk ? 'VALID' : 'INVALID'}`);
process.exit(allOk ? 0 : 1);
