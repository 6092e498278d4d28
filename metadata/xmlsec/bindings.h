/* The few libxmlsec1 declarations openpoort's signer calls itself (see build.rs). */
#include <xmlsec/xmlsec.h>
#include <xmlsec/keys.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/openssl/app.h>
