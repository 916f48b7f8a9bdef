// C functions for what Swift cannot do with libxmlsec1 directly: its transform and key-data ids are
// macros, its I/O callbacks are C function pointers with global state, and its errors arrive
// through a C callback. Prefixed jpki_xmlsec_, like CJPKIShims.
#ifndef CXMLSEC_SHIMS_H
#define CXMLSEC_SHIMS_H
// SwiftPM drops the -D flags of `pkg-config --cflags xmlsec1-openssl` (only -I/-L/-l pass), so they
// are repeated here; they must match how Debian built libxmlsec1 (xmlSecSize is `unsigned int` with
// XMLSEC_NO_SIZE_T, and the OpenSSL backend's names come with XMLSEC_CRYPTO_OPENSSL).
#ifndef XMLSEC_CRYPTO_OPENSSL
#define XMLSEC_CRYPTO_OPENSSL 1
#define XMLSEC_NO_SIZE_T 1
#define XMLSEC_OPENSSL3_ENGINES 1
#define XMLSEC_NO_GOST 1
#define XMLSEC_NO_GOST2012 1
#define XMLSEC_NO_CRYPTO_DYNAMIC_LOADING 1
#define __XMLSEC_FUNCTION__ __func__
#endif
// libxml2 was built with ICU, and its encoding.h would include <unicode/ucnv.h>, whose enums clash with
// the ICU inside Foundation. Nothing here uses the ICU members of xmlCharEncodingHandler.
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <stddef.h>
#include <libxml/tree.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/transforms.h>

/// Initialises libxml2, xmlsec and its OpenSSL backend once per process (thread-safe). 0 on success.
int jpki_xmlsec_init(void);

/// Parses XML from memory without network access or external entities. NULL on failure, with the
/// parser's message in `error`.
xmlDocPtr jpki_xml_parse(const unsigned char *bytes, size_t length, char *error, size_t errorLength);

/// The document as UTF-8 bytes (free with jpki_xml_free_bytes).
int jpki_xml_serialize(xmlDocPtr doc, unsigned char **out, size_t *length);
void jpki_xml_free_bytes(unsigned char *bytes);

/// Registers attribute `attrName` of `node` as an XML ID, under its own value and, when `alias` is
/// not NULL, also under `alias` (e.g. the percent-encoded form of a fragment). 0 on success.
int jpki_xml_register_id(xmlDocPtr doc, xmlNodePtr node, const char *attrName, const char *alias);

xmlSecTransformId jpki_xmlsec_c14n10(void);
xmlSecTransformId jpki_xmlsec_exc_c14n(void);
xmlSecTransformId jpki_xmlsec_enveloped(void);
xmlSecTransformId jpki_xmlsec_sha256(void);
xmlSecTransformId jpki_xmlsec_rsa_sha256(void);

/// A file beside the XML that a Reference names by a bare file name (raw bytes, no transforms).
typedef struct {
    const char *name;
    const unsigned char *bytes;
    size_t length;
} jpki_xmlsec_file;

/// Signs the <Signature> template at `signatureNode` with the PEM private key and the DER
/// certificate (written into an empty X509Data/X509Certificate). `files` resolve non-fragment
/// reference URIs; no other URI is dereferenced. 0 on success, else the message in `error`.
int jpki_xmlsec_sign(xmlNodePtr signatureNode, const unsigned char *keyPEM, size_t keyLength,
                     const unsigned char *certDER, size_t certLength,
                     const jpki_xmlsec_file *files, size_t fileCount, char *error, size_t errorLength);

/// Like jpki_xmlsec_sign, for a signer that only signs a DigestInfo (a card): libxmlsec1 fills the
/// references and KeyInfo (the DER certificate) and signs with a throwaway key; `digest` gets the
/// SHA-256 of the canonical SignedInfo, whose signature the caller writes into SignatureValue.
int jpki_xmlsec_sign_external(xmlNodePtr signatureNode, const unsigned char *certDER, size_t certLength,
                              const jpki_xmlsec_file *files, size_t fileCount, unsigned char digest[32],
                              char *error, size_t errorLength);

/// Verifies the <Signature> at `signatureNode` with the public key of the DER certificate.
/// Returns 0 when processing completed: *valid is 1 or 0, and when 0, `failedReference` holds the
/// URI of the first reference whose digest does not match ("" when the signature value itself
/// does not verify). Returns -1 on a processing error (message in `error`).
int jpki_xmlsec_verify(xmlNodePtr signatureNode, const unsigned char *certDER, size_t certLength,
                       const jpki_xmlsec_file *files, size_t fileCount, int *valid,
                       char *failedReference, size_t failedLength, char *error, size_t errorLength);
#endif
