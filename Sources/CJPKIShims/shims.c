#include "CJPKIShims.h"

void jpki_OPENSSL_free(void *ptr) { OPENSSL_free(ptr); }
long jpki_BIO_get_mem_data(BIO *bio, char **out) { return BIO_get_mem_data(bio, out); }

STACK_OF(X509) *jpki_sk_X509_new_null(void) { return sk_X509_new_null(); }
int jpki_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
int jpki_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
X509 *jpki_sk_X509_value(const STACK_OF(X509) *stack, int index) { return sk_X509_value(stack, index); }
void jpki_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }
void jpki_sk_X509_free(STACK_OF(X509) *stack) { sk_X509_free(stack); }

int jpki_X509_get_ext_count(const X509 *cert) { return X509_get_ext_count(cert); }
unsigned long jpki_name_print_flags(void) { return (XN_FLAG_ONELINE & ~XN_FLAG_SPC_EQ & ~ASN1_STRFLGS_ESC_MSB); }
int jpki_cms_signer_count(STACK_OF(X509) *signers) { return sk_X509_num(signers); }
CMS_SignerInfo *jpki_cms_first_signer_info(CMS_ContentInfo *cms) {
    STACK_OF(CMS_SignerInfo) *infos = CMS_get0_SignerInfos(cms);
    return (infos && sk_CMS_SignerInfo_num(infos) > 0) ? sk_CMS_SignerInfo_value(infos, 0) : NULL;
}
