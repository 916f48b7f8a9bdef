// libxmlsec1 (OpenSSL backend) and libxml2 as a Swift module. The defines come from
// `pkg-config --cflags xmlsec1-openssl` (XMLSEC_CRYPTO_OPENSSL, XMLSEC_NO_SIZE_T, ...).
#ifndef CXMLSEC_SHIM_H
#define CXMLSEC_SHIM_H
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
#include <libxml/tree.h>
#include <libxml/parser.h>
#include <libxml/valid.h>
#include <libxml/xmlerror.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/keys.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/app.h>
#endif
