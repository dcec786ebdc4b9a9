internal import CCurl
#if canImport(Glibc)
import Glibc
#endif

extension CurlTransport {
    /// How long a held request may stay silent: until its answer begins (the hold and the stall
    /// limit), and between bytes after that.
    struct Silence {
        let beforeAnswer: Duration
        let afterAnswer: Duration
    }

    /// Runs the transfer set up on `handle` to its end, as `curl_easy_perform` would, in the multi
    /// handle: its wait is woken by `curl_multi_wakeup` when the task is cancelled. With a `silence`
    /// (a held request, curl's low-speed check off) the wait sleeps until data, curl's own timers or
    /// the silence's end, rather than waking every second. On `queue` only.
    func runTransfer(_ transfer: Transfer, silence: Silence?) -> CURLcode {
        guard curl_multi_add_handle(multi, handle) == CURLM_OK else { return CURLE_OUT_OF_MEMORY }
        // Removing a transfer that has not ended closes its connection; an ended one's stays for the next.
        defer { curl_multi_remove_handle(multi, handle) }
        while true {
            var running: Int32 = 0
            guard curl_multi_perform(multi, &running) == CURLM_OK else { return CURLE_OUT_OF_MEMORY }
            if running == 0 { break }
            if transfer.cancellation.isCancelled { return CURLE_ABORTED_BY_CALLBACK }
            // At most a second, so that curl's own timers (stall, connect) run even on a silent link;
            // curl shortens the wait itself when one of its timers is due sooner.
            var wait: Int32 = 1000
            if let silence {
                let limit = transfer.moved == 0 ? silence.beforeAnswer : silence.afterAnswer
                let left = limit - (ContinuousClock.now - transfer.movedAt)
                guard left > .zero else { return silent(limit) }
                wait = Int32(min(left / .milliseconds(1) + 1, Double(Int32.max)))
            }
            guard curl_multi_poll(multi, nil, 0, wait, nil) == CURLM_OK else { return CURLE_OUT_OF_MEMORY }
        }
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            if message.pointee.msg == CURLMSG_DONE { return message.pointee.data.result }
        }
        return CURLE_GOT_NOTHING
    }

    /// Ends a held request that stayed silent too long, as curl's low-speed check would end another.
    private func silent(_ limit: Duration) -> CURLcode {
        let text = "no data for \(limit.components.seconds) s"
        text.withCString { message in
            _ = strncpy(errorBuffer, message, Int(CURL_ERROR_SIZE) - 1)
        }
        return CURLE_OPERATION_TIMEDOUT
    }
}
