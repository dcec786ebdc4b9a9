/// The dashboard's pages as Mustache templates: server-rendered HTML with labels in Bahasa
/// Indonesia, no script. Every value goes in as `{{value}}` (escaped by `OfficeEscaping`), or as
/// `{{#value}}{{> shown}}{{/value}}` to show its invisible characters; no template writes a value
/// unescaped (`{{{…}}}` or `{{&…}}`), which `OfficeHTMLTests` checks.
enum OfficeTemplates {
    /// Every template by name; `OfficePages` puts the content-type pragma before each.
    static let all: [String: String] = [
        "page": page, "shown": shown, "select": select, "signIn": signIn, "notice": notice,
        "overview": overview, "enrollments": enrollments, "conflicts": conflicts,
    ]

    /// The frame of every page; `nav` is absent on the sign-in page.
    static let page = """
        <!doctype html>
        <html lang="id"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Handak Begawi</title><link rel="stylesheet" href="/office/gaya.css"></head>
        <body><header><strong>Handak Begawi</strong> · Dinas Ketenagakerjaan Kota Bontang\
        {{#nav}}<nav><a href="/office/">Ringkasan</a> <a href="/office/pendaftaran">Pendaftaran</a> <a href="/office/konflik">Konflik</a>
        <form method="post" action="/office/keluar" class="keluar"><input type="hidden" name="csrf" value="{{csrf}}">\
        <button type="submit">Keluar ({{#site}}{{> shown}}{{/site}})</button></form></nav>{{/nav}}</header>
        <main><h1>{{title}}</h1>
        {{$body}}{{/body}}
        </main></body></html>
        """

    /// A `Shown` value: its text, and its invisible characters as marks.
    static let shown = "{{#pieces}}{{#isMark}}<span class=tanda>{{mark}}</span>{{/isMark}}{{^isMark}}{{text}}{{/isMark}}{{/pieces}}"

    /// A drop-down (`OfficeSelect`) with "semua" (all) first.
    static let select = """
        <select name="{{name}}" id="{{name}}"><option value="">semua</option>{{#choices}}\
        <option value="{{value}}"{{#selected}} selected{{/selected}}>{{#label}}{{> shown}}{{/label}}</option>{{/choices}}</select>
        """

    static let signIn = """
        {{<page}}{{$body}}{{#message}}<p class="peringatan" id="pesan">{{> shown}}</p>{{/message}}
        <p>Masuk dengan kredensial kantor (berkas dari <code>begawi hub add-site --kind office</code>).</p>
        <form method="post" action="/office/masuk"><label>Kredensial kantor <input type="password" name="kredensial" id="kredensial" autocomplete="off" required></label>
        <button type="submit" id="masuk">Masuk</button></form>{{/body}}{{/page}}
        """

    /// A page that only says what went wrong.
    static let notice = """
        {{<page}}{{$body}}<p class="peringatan" id="pesan">{{#message}}{{> shown}}{{/message}}</p>{{/body}}{{/page}}
        """

    static let overview = """
        {{<page}}{{$body}}<h2>Kesehatan situs</h2>
        <p class="catatan">Kontak terakhir lebih dari satu jam yang lalu ditandai merah. Perubahan tertunda: yang belum diakui hub saat situs terakhir tersambung. Selisih jam: jam hub dikurangi jam situs. Versi: versi begawi di situs; Skema: versi skema replikanya, pada sesi terakhir.</p>
        <table id="kesehatan"><thead><tr><th>Situs</th><th>Jenis</th><th>Kontak terakhir</th><th>Perubahan tertunda</th><th>Selisih jam</th><th>Versi</th><th>Skema</th><th>Penolakan</th><th>Konflik</th></tr></thead>
        <tbody>
        {{#sites}}<tr data-site="{{id}}"><td>{{#name}}{{> shown}}{{/name}}</td><td>{{#kind}}{{> shown}}{{/kind}}{{#revoked}} (dicabut){{/revoked}}{{#expired}} (kedaluwarsa){{/expired}}</td>\
        <td data-field="kontak"{{#stale}} class="peringatan"{{/stale}}>{{contact}}</td>\
        <td class="n" data-field="tertunda">{{pending}}</td>\
        <td class="n" data-field="selisih">{{offset}}</td>\
        <td data-field="versi">{{version}}</td><td class="n" data-field="skema">{{schema}}</td>\
        <td class="n" data-field="penolakan">{{refused}}</td><td class="n" data-field="konflik">{{conflicts}}</td></tr>
        {{/sites}}</tbody></table>{{/body}}{{/page}}
        """

    static let enrollments = """
        {{<page}}{{$body}}<form method="get" action="/office/pendaftaran" class="saring">
        <label>Dari <input type="date" name="dari" id="dari" value="{{from}}"></label>
        <label>Sampai <input type="date" name="sampai" id="sampai" value="{{to}}"></label>
        <label>Mitra {{#partners}}{{> select}}{{/partners}}</label>
        <label>Program {{#programs}}{{> select}}{{/programs}}</label>
        <label>Status {{#statuses}}{{> select}}{{/statuses}}</label>
        <button type="submit" id="saring">Saring</button></form>
        {{#problem}}<p class="peringatan" id="pesan">{{> shown}}</p>{{/problem}}\
        {{#report}}<p><a id="csv" href="/office/pendaftaran.csv{{query}}">Unduh CSV</a></p>
        <table id="rekap"><thead><tr><th>Mitra</th><th>Program</th>{{#columns}}<th>{{#label}}{{> shown}}{{/label}}</th>{{/columns}}<th>Jumlah</th></tr></thead><tbody>
        {{#lines}}<tr data-partner="{{partner}}" data-program="{{program}}"><td>{{#partnerName}}{{> shown}}{{/partnerName}}</td><td>{{#programTitle}}{{> shown}}{{/programTitle}}</td>\
        {{#cells}}<td class="n" data-status="{{status}}">{{count}}</td>{{/cells}}<td class="n" data-status="total">{{total}}</td></tr>
        {{/lines}}<tr class="total" id="total"><td colspan="2">Jumlah</td>{{#totals}}<td class="n" data-status="{{status}}">{{count}}</td>{{/totals}}\
        <td class="n" data-status="total">{{total}}</td></tr></tbody></table>{{#empty}}<p id="kosong">Tidak ada pendaftaran yang cocok dengan saringan ini.</p>{{/empty}}{{/report}}{{/body}}{{/page}}
        """

    static let conflicts = """
        {{<page}}{{$body}}{{#notice}}<p id="pesan">{{> shown}}</p>
        {{/notice}}<p class="catatan">Setiap tulisan yang kalah dalam penggabungan tercatat di sini dengan nilainya. Menerapkan ulang menulis nilai yang kalah sebagai perubahan hub; situs yang boleh melihat baris itu menerimanya pada sinkronisasi berikutnya.</p>
        <table id="konflik"><thead><tr><th>Waktu</th><th>Tabel</th><th>Kunci</th><th>Kolom</th><th>Nilai yang kalah</th><th>Dari</th><th>Nilai yang menang</th><th>Dari</th><th>Tindakan</th></tr></thead><tbody>
        {{#rows}}<tr data-conflict="{{id}}"><td>{{detected}}</td><td>{{#table}}{{> shown}}{{/table}}</td><td>{{#key}}{{> shown}}{{/key}}</td>\
        <td>{{#column}}{{> shown}}{{/column}}</td><td data-field="kalah">{{#loser}}{{> shown}}{{/loser}}</td><td>{{#loserSite}}{{> shown}}{{/loserSite}}</td>\
        <td data-field="menang">{{#winner}}{{> shown}}{{/winner}}</td><td>{{#winnerSite}}{{> shown}}{{/winnerSite}}</td><td data-field="tindakan">\
        {{#isReapplied}}Diterapkan ulang {{reapplied}}{{/isReapplied}}\
        {{#isBlocked}}<span class="catatan">Tidak dapat diterapkan ulang: {{#blocked}}{{> shown}}{{/blocked}}</span>{{/isBlocked}}\
        {{#open}}<form method="post" action="/office/konflik/{{id}}/terapkan"><input type="hidden" name="csrf" value="{{csrf}}">\
        <button type="submit" class="terapkan">Terapkan ulang</button></form>{{/open}}</td></tr>
        {{/rows}}</tbody></table>{{#empty}}<p id="kosong">Belum ada konflik.</p>{{/empty}}{{/body}}{{/page}}
        """

    /// The dashboard's style sheet (`/office/gaya.css`; the pages' policy allows no inline style).
    static let style = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b}header{background:#0b5d3b;color:#fff;padding:.6em 1em}
        header a{color:#fff;margin-right:1em}nav{display:inline-block;margin-left:2em}form.keluar{display:inline}
        main{padding:1em}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
        td.n{text-align:right;font-variant-numeric:tabular-nums}tr.total td{font-weight:bold;background:#f1f1f1}
        .peringatan{color:#a40000}.catatan{color:#555}form.saring label{margin-right:1em}
        .tanda{background:#fff3bf;color:#7a4b00;border:1px solid #c99700;border-radius:2px;font-size:.85em;padding:0 .15em}
        """
}
