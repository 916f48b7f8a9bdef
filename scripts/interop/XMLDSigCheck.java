// A relying party's XMLDSig check with the JDK's own verifier (javax.xml.crypto, JSR 105), for the
// e-Tax and e-Gov shapes jpki-sandbox writes. Nothing of ours is used: the JDK parses, canonicalises
// and verifies; this file only says where the bytes of each Reference come from.
//
//   javac -d OUT scripts/interop/XMLDSigCheck.java
//   java -cp OUT XMLDSigCheck etax FILE.xtx [--root sign-root.pem]
//   java -cp OUT XMLDSigCheck egov PACKAGE-DIR [--root sign-root.pem]
//
// etax: every element with an `id` attribute is registered as an ID (no DTD declares them), then
//       every <Signature> in the file is validated.
// egov: kousei.xml in the folder; <構成情報>'s `ID` is registered; a fragment is looked up as written
//       and, failing that, percent-decoded (e-Gov writes #%E6%A7%8B...); a Reference without a
//       fragment names a file of the folder, read as raw bytes. Every <Signature> of <署名情報> is validated.
// The key is the certificate in KeyInfo; with --root, that certificate must be signed by the root.
// Prints one JSON object {"valid": bool, "signatures": [{"valid": bool, "references": [bool...], "error": ...}]}.
// Exit 0 when every signature is valid (and there is at least one), 1 when not, 2 on usage or I/O errors.
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.util.*;
import javax.xml.crypto.*;
import javax.xml.crypto.dom.DOMURIReference;
import javax.xml.crypto.dsig.*;
import javax.xml.crypto.dsig.dom.DOMValidateContext;
import javax.xml.crypto.dsig.keyinfo.*;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.*;

public class XMLDSigCheck {
    static final String DSIG = XMLSignature.XMLNS;

    public static void main(String[] args) {
        if (args.length < 2 || !(args[0].equals("etax") || args[0].equals("egov"))) usage("usage: XMLDSigCheck etax|egov PATH [--root PEM]");
        X509Certificate root = null;
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--root") && i + 1 < args.length) {
                try (InputStream in = new FileInputStream(args[++i])) {
                    root = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
                } catch (Exception e) { usage("cannot read the root: " + e); }
            } else usage("unknown argument " + args[i]);
        }
        boolean egov = args[0].equals("egov");
        Path folder = egov ? Paths.get(args[1]) : null;
        Path file = egov ? folder.resolve("kousei.xml") : Paths.get(args[1]);
        Document doc = null;
        try {
            DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
            dbf.setNamespaceAware(true);
            dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            doc = dbf.newDocumentBuilder().parse(file.toFile());
        } catch (Exception e) { usage("cannot parse " + file + ": " + e.getMessage()); }

        NodeList all = doc.getElementsByTagNameNS(DSIG, "Signature");
        List<String> results = new ArrayList<>();
        boolean allValid = all.getLength() > 0;
        XMLSignatureFactory factory = XMLSignatureFactory.getInstance("DOM");
        for (int i = 0; i < all.getLength(); i++) {
            Element sig = (Element) all.item(i);
            StringBuilder json = new StringBuilder("{");
            try {
                DOMValidateContext ctx = new DecodingContext(new CertificateSelector(root), sig);
                registerIds(doc.getDocumentElement(), ctx, egov ? "ID" : "id");
                if (egov) ctx.setURIDereferencer(new PackageDereferencer(folder, factory.getURIDereferencer()));
                XMLSignature signature = factory.unmarshalXMLSignature(ctx);
                boolean valid = signature.validate(ctx);
                List<String> refs = new ArrayList<>();
                for (Object r : signature.getSignedInfo().getReferences()) refs.add(String.valueOf(((Reference) r).validate(ctx)));
                allValid &= valid;
                json.append("\"valid\": ").append(valid).append(", \"references\": ").append(refs).append(", \"error\": null");
            } catch (Exception e) {
                allValid = false;
                json.append("\"valid\": false, \"references\": [], \"error\": \"").append(String.valueOf(e).replace("\\", "\\\\").replace("\"", "'")).append("\"");
            }
            results.add(json.append("}").toString());
        }
        System.out.println("{\"valid\": " + allValid + ", \"signatures\": " + results + "}");
        System.exit(allValid ? 0 : 1);
    }

    static void usage(String message) {
        System.out.println("{\"valid\": false, \"signatures\": [], \"error\": \"" + message.replace("\"", "'") + "\"}");
        System.exit(2);
    }

    static void registerIds(Element e, DOMValidateContext ctx, String attribute) {
        if (e.hasAttributeNS(null, attribute)) ctx.setIdAttributeNS(e, null, attribute);
        for (Node c = e.getFirstChild(); c != null; c = c.getNextSibling())
            if (c instanceof Element) registerIds((Element) c, ctx, attribute);
    }

    /** Looks an ID up as written, then percent-decoded (#%E6%A7%8B... is 構成情報). */
    static class DecodingContext extends DOMValidateContext {
        DecodingContext(KeySelector ks, Node node) { super(ks, node); }
        @Override public Element getElementById(String id) {
            Element e = super.getElementById(id);
            return e != null ? e : super.getElementById(percentDecode(id));
        }
    }

    static String percentDecode(String s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '%' && i + 2 < bytes.length) {
                out.write(Integer.parseInt(new String(bytes, i + 1, 2, StandardCharsets.US_ASCII), 16));
                i += 2;
            } else out.write(bytes[i]);
        }
        return new String(out.toByteArray(), StandardCharsets.UTF_8);
    }

    /** Fragments go to the JDK's dereferencer; a bare file name is that file of the package, raw bytes. */
    static class PackageDereferencer implements URIDereferencer {
        final Path folder; final URIDereferencer fallback;
        PackageDereferencer(Path folder, URIDereferencer fallback) { this.folder = folder; this.fallback = fallback; }
        public Data dereference(URIReference ref, XMLCryptoContext ctx) throws URIReferenceException {
            String uri = ref.getURI();
            if (uri == null || uri.isEmpty() || uri.startsWith("#")) return fallback.dereference(ref, ctx);
            Path p = folder.resolve(percentDecode(uri)).normalize();
            if (!p.startsWith(folder.normalize()) || !Files.isRegularFile(p)) throw new URIReferenceException("no file " + uri + " in the package");
            try { return new OctetStreamData(new ByteArrayInputStream(Files.readAllBytes(p)), uri, null); }
            catch (IOException e) { throw new URIReferenceException(e); }
        }
    }

    /** The first certificate of KeyInfo/X509Data; with a root, it must be signed by it. */
    static class CertificateSelector extends KeySelector {
        final X509Certificate root;
        CertificateSelector(X509Certificate root) { this.root = root; }
        public KeySelectorResult select(KeyInfo keyInfo, Purpose purpose, AlgorithmMethod method, XMLCryptoContext context) throws KeySelectorException {
            if (keyInfo == null) throw new KeySelectorException("no KeyInfo");
            for (Object item : keyInfo.getContent()) {
                if (!(item instanceof X509Data)) continue;
                for (Object o : ((X509Data) item).getContent()) {
                    if (!(o instanceof X509Certificate)) continue;
                    X509Certificate cert = (X509Certificate) o;
                    if (root != null) {
                        try { cert.verify(root.getPublicKey()); } catch (Exception e) { throw new KeySelectorException("the signer's certificate is not issued by the root: " + e); }
                    }
                    PublicKey key = cert.getPublicKey();
                    return () -> key;
                }
            }
            throw new KeySelectorException("no X509Certificate in KeyInfo");
        }
    }
}
