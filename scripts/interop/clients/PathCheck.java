// A Java relying party (PKIX CertPathValidator) checking a JPKI Sandbox leaf against its root.
// Usage: java PathCheck.java ROOT.pem LEAF.pem [--default-qualifiers] [--crl CRL.der]
// JPKI certificates carry a critical certificatePolicies with a CPS qualifier, as the real ones do;
// Java's default PKIXParameters reject that ("critical policy qualifiers present"), so a relying party
// sets setPolicyQualifiersRejected(false). --default-qualifiers keeps the default, to show the refusal.
import java.io.FileInputStream;
import java.security.cert.*;
import java.util.*;

public class PathCheck {
    public static void main(String[] args) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        X509Certificate root = (X509Certificate) cf.generateCertificate(new FileInputStream(args[0]));
        X509Certificate leaf = (X509Certificate) cf.generateCertificate(new FileInputStream(args[1]));
        boolean defaultQualifiers = Arrays.asList(args).contains("--default-qualifiers");
        int crlAt = Arrays.asList(args).indexOf("--crl");

        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        if (!defaultQualifiers) params.setPolicyQualifiersRejected(false);   // the line JPKI needs
        if (crlAt >= 0) {
            X509CRL crl = (X509CRL) cf.generateCRL(new FileInputStream(args[crlAt + 1]));
            params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(List.of(crl))));
            params.setRevocationEnabled(true);
            PKIXRevocationChecker rc = (PKIXRevocationChecker) CertPathValidator.getInstance("PKIX").getRevocationChecker();
            rc.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS, PKIXRevocationChecker.Option.NO_FALLBACK));
            params.addCertPathChecker(rc);
        } else {
            params.setRevocationEnabled(false);
        }
        CertPath path = cf.generateCertPath(List.of(leaf));
        try {
            CertPathValidator.getInstance("PKIX").validate(path, params);
            System.out.println("VALID");
        } catch (CertPathValidatorException e) {
            System.out.println("INVALID: " + e.getMessage());
            System.exit(1);
        }
    }
}
