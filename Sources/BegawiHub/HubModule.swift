public import BegawiCore
import Hummingbird
import HummingbirdTLS
