/* nsvault--0.6--0.7.sql — the audit trail searchable by time at little cost to its writer */

\echo Use "ALTER EXTENSION nsvault UPDATE TO '0.7'" to load this file. \quit

/*
 * Events are appended in time order, so a BRIN index on their time finds
 * a period's events in a long trail for a few pages of index, where a
 * btree would cost the audit writer an index insert per event.
 */
CREATE INDEX audit_events_at_brin ON nsvault.audit_events USING brin (at);

/*
 * 0.6 as first published left the read functions their own search_path; a
 * database made from it keeps that setting, which costs every read.  The
 * library fixes search_path around each of its queries instead.  (A no-op
 * where 0.6 already reset it.)
 */
ALTER FUNCTION nsvault.get_secret(text, text) RESET search_path;
ALTER FUNCTION nsvault.get_secret(text, text, integer) RESET search_path;
ALTER FUNCTION nsvault.get_secrets(text, text[]) RESET search_path;
ALTER FUNCTION nsvault.get_secrets(text, text[], boolean) RESET search_path;
