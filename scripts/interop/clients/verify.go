// A Go relying party: verify LEAF's chain to ROOT, then its status on the CRL.
// Usage: go run verify.go ROOT.pem LEAF.pem CRL.der
// JPKI leaves have no extendedKeyUsage: ask for x509.ExtKeyUsageAny. The CRL is signed by the root;
// Go 1.19's RevocationList.AuthorityKeyId holds the whole AKI SEQUENCE, so compare keys, not that field.
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func readCert(path string) *x509.Certificate {
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	if block, _ := pem.Decode(data); block != nil {
		data = block.Bytes
	}
	cert, err := x509.ParseCertificate(data)
	if err != nil {
		panic(err)
	}
	return cert
}

func main() {
	root, leaf := readCert(os.Args[1]), readCert(os.Args[2])
	roots := x509.NewCertPool()
	roots.AddCert(root)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		fmt.Println("INVALID:", err)
		os.Exit(1)
	}
	der, err := os.ReadFile(os.Args[3])
	if err != nil {
		panic(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		panic(err)
	}
	if err := crl.CheckSignatureFrom(root); err != nil {
		fmt.Println("BAD CRL:", err)
		os.Exit(1)
	}
	for _, entry := range crl.RevokedCertificates {
		if entry.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
			fmt.Println("REVOKED")
			os.Exit(4)
		}
	}
	fmt.Println("GOOD")
}
