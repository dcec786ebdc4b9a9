/// The hub API's OpenAPI description, served at `/v1/openapi.yaml`. Generated from
/// `docs/openapi.yaml` by `make openapi`; a test keeps the two equal.
enum OpenAPIDocument {
    static let text = """
        openapi: 3.1.0
        info:
          title: Begawi hub
          version: "1"
          description: |
            The hub's HTTPS API for Begawi site daemons. Every answer carries the hub's clock in
            `Begawi-Hub-Time` (milliseconds since the Unix epoch); sites estimate their clock offset from it.
            Refusals are JSON `{"error": code, "message": text}` with a 4xx status; the message says what
            to do. Paths are versioned: a new incompatible version gets a new prefix.

            A sync round is: `GET /v1/session`, then `POST /v1/push` until the hub's cursor for the
            site's replica reaches its head, then `GET /v1/pull` until a page says it is complete.
        servers:
          - url: https://hub.example:8443
        security:
          - siteCredential: []
        components:
          securitySchemes:
            siteCredential:
              type: http
              scheme: bearer
              description: The site's credential, `bgw1.<site id>.<64 hex digits>`, printed once by `begawi hub add-site` (or `begawi hub rotate-credential`, which replaces it). The hub stores only a SHA-256 of its secret part.
          parameters:
            Replica:
              name: Begawi-Replica
              in: header
              required: true
              description: The id (UUID) of the site's replica. The first site to use an id owns it.
              schema: {type: string, format: uuid}
          headers:
            HubTime:
              description: The hub's wall clock, in milliseconds since the Unix epoch.
              schema: {type: integer, format: int64}
          schemas:
            Cursor:
              type: object
              required: [base, position]
              properties:
                base: {type: integer, format: int64, description: Every register changed up to here is held.}
                position: {type: integer, format: int64, description: Every row changed up to here is held.}
            EpochLink:
              type: object
              required: [epoch, through]
              properties:
                epoch: {type: string, description: An earlier epoch of the hub.}
                through: {type: integer, format: int64, description: The last change sequence this epoch shares with it.}
            Session:
              type: object
              required: [site, epoch, lineage, push_cursor, max_clock_skew_milliseconds, max_body_bytes, page_rows]
              properties:
                site: {type: string}
                epoch: {type: string, description: The hub database's id; new after a restore from a backup.}
                lineage: {type: array, items: {$ref: '#/components/schemas/EpochLink'}}
                push_cursor: {$ref: '#/components/schemas/Cursor'}
                max_clock_skew_milliseconds: {type: integer, format: int64}
                max_body_bytes: {type: integer}
                page_rows: {type: integer}
            PushOutcome:
              type: object
              required: [cursor, rows_changed, conflicts]
              properties:
                cursor: {$ref: '#/components/schemas/Cursor'}
                rows_changed: {type: integer}
                conflicts:
                  type: integer
                  description: >-
                    Conflicts recorded for the rows the hub accepted. A refused row adds none: what it left in
                    the office's ledger depends on data the site may not see.
                refused:
                  type: array
                  description: >-
                    Rows the hub's rules refused; the rest of the batch landed. The site keeps them in its
                    refusal ledger and does not send them again.
                  items: {$ref: '#/components/schemas/RowRefusal'}
                restore:
                  type: string
                  format: byte
                  description: >-
                    A base64 Begawi batch with the hub's whole rows for refused rows the site may see. The
                    site makes its rows these; refused rows not in it are removed from the site's replica.
            RowRefusal:
              type: object
              required: [table, key, reason, message]
              properties:
                table: {type: string}
                key: {type: string, description: The row's key (never personal data; participant keys are derived).}
                reason:
                  type: string
                  description: >-
                    A stable code: not-writer, not-owner, owner-change, office-only, bad-value, invalid-nik,
                    key-mismatch, unknown-row, unknown-reference, awaiting-reference, already-registered, forged-stamp,
                    erased.
                    A row refused in part (a later write of it set an office-only column or another owner)
                    is at the hub without those columns; the message says so.
                message: {type: string, description: What was wrong and what to do; never the row's values.}
            Refusal:
              type: object
              required: [error, message]
              properties:
                error:
                  type: string
                  description: >-
                    A stable code: unauthorized, bad-request, bad-batch, bad-encoding, too-large,
                    clock-ahead, out-of-order, epoch-changed, internal.
                message: {type: string, description: What was wrong and what to do.}
                hub_time_ms: {type: string}
                cursor_base: {type: string}
                cursor_position: {type: string}
                epoch: {type: string}
          responses:
            Refused:
              description: Refused, with a reason.
              headers: {Begawi-Hub-Time: {$ref: '#/components/headers/HubTime'}}
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Refusal'}
            TooManyFailures:
              description: >-
                too-many-failures: more wrong credentials came from this address than the hub allows in a
                minute (auth_failures_per_minute); the credential was not checked. Try again after
                Retry-After seconds (also in retry_after_seconds).
              headers:
                Begawi-Hub-Time: {$ref: '#/components/headers/HubTime'}
                Retry-After: {schema: {type: integer, minimum: 1}}
              content:
                application/json:
                  schema: {$ref: '#/components/schemas/Refusal'}
        paths:
          /v1/health:
            get:
              summary: Liveness; needs no credential.
              security: []
              responses:
                "200":
                  description: The hub is serving.
                  headers: {Begawi-Hub-Time: {$ref: '#/components/headers/HubTime'}}
                  content:
                    application/json:
                      schema: {type: object, properties: {status: {type: string}}}
          /v1/openapi.yaml:
            get:
              summary: This document; needs no credential.
              security: []
              responses:
                "200":
                  description: The OpenAPI description.
                  content:
                    application/yaml:
                      schema: {type: string}
          /v1/session:
            get:
              summary: Start a sync round; the hub's epoch and its cursor for the site's replica.
              description: |
                The site may report on itself; the hub records it with the time of contact (its health
                ledger, shown at `/metrics`): `Begawi-Pending`, its local changes not yet acknowledged;
                `Begawi-Site-Time`, its wall clock in ms since the Unix epoch (the hub keeps its own clock
                minus this); `User-Agent`, its daemon and version.
              parameters:
                - {$ref: '#/components/parameters/Replica'}
                - {name: Begawi-Pending, in: header, required: false, schema: {type: integer, format: int64, minimum: 0}}
                - {name: Begawi-Site-Time, in: header, required: false, schema: {type: integer, format: int64, minimum: 0, maximum: 281474976710655}}
              responses:
                "200":
                  description: The session.
                  headers: {Begawi-Hub-Time: {$ref: '#/components/headers/HubTime'}}
                  content:
                    application/json:
                      schema: {$ref: '#/components/schemas/Session'}
                "400": {$ref: '#/components/responses/Refused'}
                "401": {$ref: '#/components/responses/Refused'}
                "429": {$ref: '#/components/responses/TooManyFailures'}
                "404": {$ref: '#/components/responses/Refused'}
          /v1/push:
            post:
              summary: Apply one batch of the site's changes in one transaction; answered after commit.
              description: |
                The body is a Begawi batch (binary, column-oriented, zlib-compressed inside; see
                Sources/BegawiCore/BatchCodec.swift), optionally with `Content-Encoding: gzip`. A resent
                batch changes nothing. A batch whose base is past the hub's cursor is refused with
                `out-of-order` and the hub's cursor, from which the site exports again. When the schema
                declares access rules, each row is judged on its own: rows the site may not write are
                listed in `refused` with a reason, and the rest of the batch is applied.
              parameters: [{$ref: '#/components/parameters/Replica'}]
              requestBody:
                required: true
                content:
                  application/vnd.begawi.batch:
                    schema: {type: string, format: binary}
              responses:
                "200":
                  description: Applied and committed.
                  headers: {Begawi-Hub-Time: {$ref: '#/components/headers/HubTime'}}
                  content:
                    application/json:
                      schema: {$ref: '#/components/schemas/PushOutcome'}
                "400": {$ref: '#/components/responses/Refused'}
                "401": {$ref: '#/components/responses/Refused'}
                "429": {$ref: '#/components/responses/TooManyFailures'}
                "404": {$ref: '#/components/responses/Refused'}
                "409": {$ref: '#/components/responses/Refused'}
                "413": {$ref: '#/components/responses/Refused'}
                "415": {$ref: '#/components/responses/Refused'}
                "422": {$ref: '#/components/responses/Refused'}
          /v1/pull:
            get:
              summary: The next page of the hub's change feed after the site's cursor.
              description: |
                Rows in change order, without those the site sent and the hub holds unchanged. The site
                applies a page and advances its cursor in one transaction, and pulls again until a page
                is complete. With access rules, a page holds only rows the site may see; rows it newly
                may see come whole, and the batch's evictions name rows it must remove from its replica
                (no longer visible to it, or erased), which are not deleted anywhere else.
              parameters:
                - {$ref: '#/components/parameters/Replica'}
                - {name: epoch, in: query, required: true, schema: {type: string}}
                - {name: base, in: query, required: true, schema: {type: integer, format: int64, minimum: 0}}
                - {name: position, in: query, required: true, schema: {type: integer, format: int64, minimum: 0}}
                - {name: max_rows, in: query, required: false, schema: {type: integer, format: int64, minimum: 1}}
              responses:
                "200":
                  description: A page (a Begawi batch).
                  headers:
                    Begawi-Hub-Time: {$ref: '#/components/headers/HubTime'}
                    Begawi-Epoch: {description: The hub's epoch., schema: {type: string}}
                  content:
                    application/vnd.begawi.batch:
                      schema: {type: string, format: binary}
                "400": {$ref: '#/components/responses/Refused'}
                "401": {$ref: '#/components/responses/Refused'}
                "429": {$ref: '#/components/responses/TooManyFailures'}
                "404": {$ref: '#/components/responses/Refused'}
                "409": {$ref: '#/components/responses/Refused'}
          /metrics:
            get:
              summary: Prometheus text format (0.0.4) for the office's monitoring.
              description: |
                Per site: last contact, lag behind the feed, pending changes it reported, clock offset,
                pushes, rows, refusals, conflicts, bytes; per route: answers and a latency histogram.
                Needs the token in the file named by `metrics_token_file` (no site's credential is
                accepted); without one the hub answers 404 `metrics-off`.
              responses:
                "200":
                  description: The figures.
                  content:
                    text/plain:
                      schema: {type: string}
                "401": {$ref: '#/components/responses/Refused'}
                "429": {$ref: '#/components/responses/TooManyFailures'}
                "404": {$ref: '#/components/responses/Refused'}

        """
}
