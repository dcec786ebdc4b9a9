internal import CCurl

extension CurlTransport {
    /// Runs the transfer set up on `handle` to its end, as `curl_easy_perform` would, in the multi
    /// handle: its wait is woken by `curl_multi_wakeup` when the task is cancelled. On `queue` only.
    func runTransfer(_ cancellation: Cancellation) -> CURLcode {
        guard curl_multi_add_handle(multi, handle) == CURLM_OK else { return CURLE_OUT_OF_MEMORY }
        // Removing a transfer that has not ended closes its connection; an ended one's stays for the next.
        defer { curl_multi_remove_handle(multi, handle) }
        while true {
            var running: Int32 = 0
            guard curl_multi_perform(multi, &running) == CURLM_OK else { return CURLE_OUT_OF_MEMORY }
            if running == 0 { break }
            if cancellation.isCancelled { return CURLE_ABORTED_BY_CALLBACK }
            // At most a second, so that curl's own timers (stall, connect) run even on a silent link.
            guard curl_multi_poll(multi, nil, 0, 1000, nil) == CURLM_OK else { return CURLE_OUT_OF_MEMORY }
        }
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            if message.pointee.msg == CURLMSG_DONE { return message.pointee.data.result }
        }
        return CURLE_GOT_NOTHING
    }
}
