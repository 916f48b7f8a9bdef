// Functions for the parts of OpenSSL 3 that are macros, which Swift cannot call.
// As in swift-nio-ssl: "the Swift compiler cannot expand C macros, so we need a file that can".
#ifndef CJPKI_SHIMS_H
#define CJPKI_SHIMS_H
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/ocsp.h>
#include <openssl/cms.h>

void jpki_OPENSSL_free(void *ptr);
long jpki_BIO_get_mem_data(BIO *bio, char **out);

STACK_OF(X509) *jpki_sk_X509_new_null(void);
int jpki_sk_X509_push(STACK_OF(X509) *stack, X509 *cert);
int jpki_sk_X509_num(const STACK_OF(X509) *stack);
X509 *jpki_sk_X509_value(const STACK_OF(X509) *stack, int index);
void jpki_sk_X509_pop_free(STACK_OF(X509) *stack);
void jpki_sk_X509_free(STACK_OF(X509) *stack);

int jpki_X509_get_ext_count(const X509 *cert);
/// One-line form in certificate order (C=JP, O=…), UTF-8 left unescaped.
unsigned long jpki_name_print_flags(void);
/// The signer certificates of a verified CMS SignedData (a STACK_OF(X509) the caller frees with jpki_sk_X509_free).
int jpki_cms_signer_count(STACK_OF(X509) *signers);
/// The first SignerInfo of a SignedData, or NULL.
CMS_SignerInfo *jpki_cms_first_signer_info(CMS_ContentInfo *cms);
#endif
