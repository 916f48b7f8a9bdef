#include "CXMLSecShims.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/uri.h>
#include <libxml/valid.h>
#include <libxml/xmlerror.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/keys.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/app.h>
#include <openssl/evp.h>

// ---- errors: xmlsec reports through a callback; keep the first message of the current call ----
static __thread char lastError[512];

static void errorCallback(const char *file, int line, const char *func, const char *errorObject,
                          const char *errorSubject, int reason, const char *msg) {
    (void)file; (void)line; (void)errorObject; (void)reason;
    if (lastError[0] != 0) return;
    snprintf(lastError, sizeof lastError, "%s: %s%s%s", func ? func : "xmlsec", msg ? msg : "error",
             errorSubject ? " in " : "", errorSubject ? errorSubject : "");
}

static void takeError(char *error, size_t length, const char *fallback) {
    if (error && length > 0) snprintf(error, length, "%s", lastError[0] ? lastError : fallback);
}

// ---- I/O: references to files resolve only against the files given to this call ----
// xmlsec opens non-fragment reference URIs through its I/O callback list. We replace the whole list
// (file, http and ftp included) with one that serves the caller's files from memory: a verifier never
// reads the file system or the network because a signature says so, and a bare file name resolves
// against the package, not the working directory. The table is per thread: a call sets it, signs or
// verifies, and clears it.
static __thread const jpki_xmlsec_file *currentFiles;
static __thread size_t currentFileCount;

typedef struct { const unsigned char *bytes; size_t length; size_t position; } memoryInput;

static int packageMatch(const char *uri) { (void)uri; return 1; }

static void *packageOpen(const char *uri) {
    if (uri == NULL) return NULL;
    char *unescaped = xmlURIUnescapeString(uri, 0, NULL);
    void *result = NULL;
    for (size_t i = 0; i < currentFileCount && result == NULL; i++) {
        const char *name = currentFiles[i].name;
        if (strcmp(name, uri) == 0 || (unescaped && strcmp(name, unescaped) == 0)) {
            memoryInput *input = calloc(1, sizeof *input);
            if (input) { input->bytes = currentFiles[i].bytes; input->length = currentFiles[i].length; }
            result = input;
        }
    }
    if (unescaped) xmlFree(unescaped);
    if (result == NULL && lastError[0] == 0) snprintf(lastError, sizeof lastError, "the reference URI \"%s\" names no file of the package", uri);
    return result;
}

static int packageRead(void *context, char *buffer, int length) {
    memoryInput *input = context;
    size_t left = input->length - input->position;
    size_t n = left < (size_t)length ? left : (size_t)length;
    memcpy(buffer, input->bytes + input->position, n);
    input->position += n;
    return (int)n;
}

static int packageClose(void *context) { free(context); return 0; }

// ---- initialisation ----
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int initResult = -1;

static void initialise(void) {
    xmlInitParser();
    if (xmlSecInit() < 0) return;
    if (xmlSecCheckVersion() != 1) return;
    if (xmlSecOpenSSLAppInit(NULL) < 0) return;
    if (xmlSecOpenSSLInit() < 0) return;
    xmlSecIOCleanupCallbacks();
    if (xmlSecIORegisterCallbacks(packageMatch, packageOpen, packageRead, packageClose) < 0) return;
    // Last: the crypto initialisation installs the default (stderr) callback.
    xmlSecErrorsSetCallback(errorCallback);
    initResult = 0;
}

int jpki_xmlsec_init(void) {
    pthread_once(&once, initialise);
    return initResult;
}

// ---- documents ----
xmlDocPtr jpki_xml_parse(const unsigned char *bytes, size_t length, char *error, size_t errorLength) {
    if (length > 0x7fffffff) { snprintf(error, errorLength, "the XML is too large"); return NULL; }
    xmlResetLastError();
    // No network, no external entities or DTD loading (the defaults), no error output on stderr.
    xmlDocPtr doc = xmlReadMemory((const char *)bytes, (int)length, NULL, NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        xmlErrorPtr e = xmlGetLastError();
        if (e && e->message) {
            snprintf(error, errorLength, "line %d: %s", e->line, e->message);
            size_t n = strlen(error);
            while (n > 0 && (error[n - 1] == '\n' || error[n - 1] == ' ')) error[--n] = 0;
        } else snprintf(error, errorLength, "not well-formed XML");
    }
    return doc;
}

int jpki_xml_serialize(xmlDocPtr doc, unsigned char **out, size_t *length) {
    xmlChar *buffer = NULL;
    int size = 0;
    xmlDocDumpMemoryEnc(doc, &buffer, &size, "UTF-8");
    if (buffer == NULL) return -1;
    *out = buffer;
    *length = (size_t)size;
    return 0;
}

void jpki_xml_free_bytes(unsigned char *bytes) { xmlFree(bytes); }

int jpki_xml_register_id(xmlDocPtr doc, xmlNodePtr node, const char *attrName, const char *alias) {
    xmlAttrPtr attr = xmlHasProp(node, BAD_CAST attrName);
    if (attr == NULL) return -1;
    xmlChar *value = xmlNodeListGetString(doc, attr->children, 1);
    if (value == NULL) return -1;
    xmlAttrPtr existing = xmlGetID(doc, value);
    if (existing == NULL && xmlAddID(NULL, doc, value, attr) == NULL) { xmlFree(value); return -1; }
    if (existing != NULL && existing != attr) { xmlFree(value); return -2; }  // a duplicate ID
    xmlFree(value);
    if (alias != NULL) {
        // The same attribute under a second name: a fragment `#%E6%A7...` then finds the element
        // whose ID is `構成情報`. The table frees these entries with the document.
        xmlAttrPtr aliased = xmlGetID(doc, BAD_CAST alias);
        if (aliased == NULL && xmlAddID(NULL, doc, BAD_CAST alias, attr) == NULL) return -1;
        if (aliased != NULL && aliased != attr) return -2;
    }
    return 0;
}

xmlSecTransformId jpki_xmlsec_c14n10(void) { return xmlSecTransformInclC14NId; }
xmlSecTransformId jpki_xmlsec_exc_c14n(void) { return xmlSecTransformExclC14NId; }
xmlSecTransformId jpki_xmlsec_enveloped(void) { return xmlSecTransformEnvelopedId; }
xmlSecTransformId jpki_xmlsec_sha256(void) { return xmlSecOpenSSLTransformSha256Id; }
xmlSecTransformId jpki_xmlsec_rsa_sha256(void) { return xmlSecOpenSSLTransformRsaSha256Id; }

// ---- sign and verify ----
static xmlSecDSigCtxPtr newContext(const jpki_xmlsec_file *files, size_t fileCount) {
    lastError[0] = 0;
    currentFiles = files;
    currentFileCount = fileCount;
    xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(NULL);
    // Any URI type: the I/O table above is what limits a reference to the package's files.
    if (ctx) ctx->enabledReferenceUris = xmlSecTransformUriTypeAny;
    return ctx;
}

static void endContext(xmlSecDSigCtxPtr ctx) {
    if (ctx) xmlSecDSigCtxDestroy(ctx);
    currentFiles = NULL;
    currentFileCount = 0;
}

int jpki_xmlsec_sign(xmlNodePtr signatureNode, const unsigned char *keyPEM, size_t keyLength,
                     const unsigned char *certDER, size_t certLength,
                     const jpki_xmlsec_file *files, size_t fileCount, char *error, size_t errorLength) {
    if (jpki_xmlsec_init() != 0) { snprintf(error, errorLength, "xmlsec could not be initialised"); return -1; }
    xmlSecDSigCtxPtr ctx = newContext(files, fileCount);
    int result = -1;
    if (ctx == NULL) { takeError(error, errorLength, "xmlSecDSigCtxCreate failed"); goto done; }
    ctx->signKey = xmlSecOpenSSLAppKeyLoadMemory(keyPEM, (xmlSecSize)keyLength, xmlSecKeyDataFormatPem, NULL, NULL, NULL);
    if (ctx->signKey == NULL) { takeError(error, errorLength, "cannot load the private key"); goto done; }
    if (xmlSecOpenSSLAppKeyCertLoadMemory(ctx->signKey, certDER, (xmlSecSize)certLength, xmlSecKeyDataFormatDer) < 0) {
        takeError(error, errorLength, "cannot load the certificate"); goto done;
    }
    if (xmlSecDSigCtxSign(ctx, signatureNode) < 0) { takeError(error, errorLength, "signing failed"); goto done; }
    result = 0;
done:
    endContext(ctx);
    return result;
}

int jpki_xmlsec_sign_external(xmlNodePtr signatureNode, const unsigned char *certDER, size_t certLength,
                              const jpki_xmlsec_file *files, size_t fileCount, unsigned char digest[32],
                              char *error, size_t errorLength) {
    if (jpki_xmlsec_init() != 0) { snprintf(error, errorLength, "xmlsec could not be initialised"); return -1; }
    xmlSecDSigCtxPtr ctx = newContext(files, fileCount);
    int result = -1;
    if (ctx == NULL) { takeError(error, errorLength, "xmlSecDSigCtxCreate failed"); goto done; }
    // Keep the canonical SignedInfo that goes into the signature transform.
    ctx->flags |= XMLSEC_DSIG_FLAGS_STORE_SIGNATURE;
    // A throwaway key lets libxmlsec1 do everything but the final signature; its SignatureValue is
    // replaced. One per thread, copied per call (the context frees its key).
    static __thread xmlSecKeyPtr placeholder;
    if (placeholder == NULL) placeholder = xmlSecKeyGenerate(xmlSecOpenSSLKeyDataRsaId, 1024, xmlSecKeyDataTypePrivate);
    ctx->signKey = placeholder ? xmlSecKeyDuplicate(placeholder) : NULL;
    if (ctx->signKey == NULL) { takeError(error, errorLength, "cannot make the placeholder key"); goto done; }
    if (xmlSecOpenSSLAppKeyCertLoadMemory(ctx->signKey, certDER, (xmlSecSize)certLength, xmlSecKeyDataFormatDer) < 0) {
        takeError(error, errorLength, "cannot load the certificate"); goto done;
    }
    if (xmlSecDSigCtxSign(ctx, signatureNode) < 0) { takeError(error, errorLength, "signing failed"); goto done; }
    xmlSecBufferPtr signedInfo = xmlSecDSigCtxGetPreSignBuffer(ctx);
    if (signedInfo == NULL) { takeError(error, errorLength, "no canonical SignedInfo"); goto done; }
    unsigned int n = 32;
    if (EVP_Digest(xmlSecBufferGetData(signedInfo), xmlSecBufferGetSize(signedInfo), digest, &n, EVP_sha256(), NULL) != 1) {
        snprintf(error, errorLength, "SHA-256 of SignedInfo failed"); goto done;
    }
    result = 0;
done:
    endContext(ctx);
    return result;
}

// What a verifier lets a signature ask for: the canonicalisations, enveloped-signature and base64, the
// SHA-1/2 digests and RSA signatures. Not XPath, XSLT or XPointer: a verifier does not run the
// programs a signature carries.
static int restrictTransforms(xmlSecDSigCtxPtr ctx) {
    xmlSecTransformId c14n[] = {
        xmlSecTransformInclC14NId, xmlSecTransformInclC14NWithCommentsId, xmlSecTransformInclC14N11Id,
        xmlSecTransformInclC14N11WithCommentsId, xmlSecTransformExclC14NId, xmlSecTransformExclC14NWithCommentsId,
    };
    xmlSecTransformId reference[] = {
        xmlSecTransformEnvelopedId, xmlSecTransformBase64Id, xmlSecOpenSSLTransformSha1Id, xmlSecOpenSSLTransformSha256Id,
        xmlSecOpenSSLTransformSha384Id, xmlSecOpenSSLTransformSha512Id,
    };
    xmlSecTransformId signature[] = {
        xmlSecOpenSSLTransformRsaSha1Id, xmlSecOpenSSLTransformRsaSha256Id, xmlSecOpenSSLTransformRsaSha384Id,
        xmlSecOpenSSLTransformRsaSha512Id,
    };
    for (size_t i = 0; i < sizeof c14n / sizeof c14n[0]; i++) {
        if (xmlSecDSigCtxEnableReferenceTransform(ctx, c14n[i]) < 0 || xmlSecDSigCtxEnableSignatureTransform(ctx, c14n[i]) < 0) return -1;
    }
    for (size_t i = 0; i < sizeof reference / sizeof reference[0]; i++) {
        if (xmlSecDSigCtxEnableReferenceTransform(ctx, reference[i]) < 0) return -1;
    }
    for (size_t i = 0; i < sizeof signature / sizeof signature[0]; i++) {
        if (xmlSecDSigCtxEnableSignatureTransform(ctx, signature[i]) < 0) return -1;
    }
    return 0;
}

int jpki_xmlsec_verify(xmlNodePtr signatureNode, const unsigned char *certDER, size_t certLength,
                       const jpki_xmlsec_file *files, size_t fileCount, int *valid,
                       char *failedReference, size_t failedLength, char *error, size_t errorLength) {
    *valid = 0;
    if (failedLength > 0) failedReference[0] = 0;
    if (jpki_xmlsec_init() != 0) { snprintf(error, errorLength, "xmlsec could not be initialised"); return -1; }
    xmlSecDSigCtxPtr ctx = newContext(files, fileCount);
    int result = -1;
    if (ctx == NULL) { takeError(error, errorLength, "xmlSecDSigCtxCreate failed"); goto done; }
    if (restrictTransforms(ctx) < 0) { takeError(error, errorLength, "cannot restrict the transforms"); goto done; }
    // The key is the certificate's: trust in the certificate is the caller's decision.
    ctx->signKey = xmlSecOpenSSLAppKeyLoadMemory(certDER, (xmlSecSize)certLength, xmlSecKeyDataFormatCertDer, NULL, NULL, NULL);
    if (ctx->signKey == NULL) { takeError(error, errorLength, "cannot read the signer's certificate"); goto done; }
    if (xmlSecDSigCtxVerify(ctx, signatureNode) < 0) { takeError(error, errorLength, "the signature could not be processed"); goto done; }
    result = 0;
    if (ctx->status == xmlSecDSigStatusSucceeded) { *valid = 1; goto done; }
    xmlSecSize count = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
    for (xmlSecSize i = 0; i < count; i++) {
        xmlSecDSigReferenceCtxPtr ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);
        if (ref && ref->status != xmlSecDSigStatusSucceeded) {
            snprintf(failedReference, failedLength, "%s", ref->uri ? (const char *)ref->uri : "");
            if (failedLength > 0 && failedReference[0] == 0) snprintf(failedReference, failedLength, "(empty URI)");
            break;
        }
    }
done:
    endContext(ctx);
    return result;
}
