import JPKICA
import JPKIServer

/// Admin API routes that come from outside JPKIServer's own table (the named scenarios, when built in).
enum AdminExtensions {
    static var routes: [AdminRoute] { [] }
}
