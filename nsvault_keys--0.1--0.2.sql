/* nsvault_keys--0.1--0.2.sql — an identity, destroyed versions kept as tombstones, answers that say who answers */

\echo Use "ALTER EXTENSION nsvault_keys UPDATE TO '0.2'" to load this file. \quit

/*
 * The key database's identity: random, made when the extension is created
 * (or updated to 0.2), returned with every answer.  A main database records
 * the identity it was first linked to and refuses keys from any other: a
 * key database that was recreated empty, or replaced, has another one.  It
 * is deliberately not dumped: a key database restored from a logical dump
 * gets a new identity, which the main database's superuser accepts, after
 * a check, with nsvault.accept_key_database().
 */
CREATE TABLE nsvault_keys.key_database (
	identity uuid NOT NULL DEFAULT pg_catalog.gen_random_uuid(),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row)
);
REVOKE ALL ON TABLE nsvault_keys.key_database FROM PUBLIC;
INSERT INTO nsvault_keys.key_database DEFAULT VALUES;

/*
 * A destroyed version keeps its row, without its key: version numbers of a
 * namespace are never reused (a value sealed under an old "version 1" can
 * never meet a new key of that number), and "destroyed" can be told from
 * "missing", which means the key database is not the one the values were
 * sealed with.
 */
ALTER TABLE nsvault_keys.keys
	ALTER COLUMN key DROP NOT NULL,
	ADD COLUMN destroyed_at timestamptz,
	ADD CONSTRAINT keys_destroyed_has_no_key CHECK ((key IS NULL) = (destroyed_at IS NOT NULL));

CREATE FUNCTION nsvault_keys.identity() RETURNS uuid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT d.identity FROM nsvault_keys.key_database d $$;
REVOKE ALL ON FUNCTION nsvault_keys.identity() FROM PUBLIC;

/*
 * Every function the main database calls answers (identity, version, key):
 * one row, or none where that is stated.  They replace 0.1's, dropped at
 * the end.
 */

/* Inserts version next_version of a namespace's key; the caller holds its lock. */
CREATE FUNCTION nsvault_keys.insert_key(namespace text, next_version integer)
RETURNS TABLE (identity uuid, version integer, key bytea)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	INSERT INTO nsvault_keys.keys AS k (namespace, version, key)
	VALUES (namespace, next_version, nsvault_keys.new_key())
	RETURNING nsvault_keys.identity(), k.version, k.key
$$;
REVOKE ALL ON FUNCTION nsvault_keys.insert_key(text, integer) FROM PUBLIC;

/* The highest version a namespace ever had, destroyed ones included; 0 if none. */
CREATE FUNCTION nsvault_keys.highest_version(namespace text) RETURNS integer
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT coalesce(max(k.version), 0) FROM nsvault_keys.keys k
	 WHERE k.namespace = highest_version.namespace
$$;
REVOKE ALL ON FUNCTION nsvault_keys.highest_version(text) FROM PUBLIC;

/*
 * Whether a main database that expects the key database identified by
 * expected (null: it expects none yet) may have keys made here.  When not,
 * the functions that make keys answer only the identity, and make nothing.
 */
CREATE FUNCTION nsvault_keys.is_expected(expected uuid) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT expected IS NULL OR expected = nsvault_keys.identity() $$;
REVOKE ALL ON FUNCTION nsvault_keys.is_expected(uuid) FROM PUBLIC;

/*
 * The namespace's key for a writer: its highest version, when that is at
 * least min_version, not destroyed, and new_version is false; otherwise
 * the next version, one above every one it had.  The main database passes
 * one more than the highest version it has used, so it never gets a key it
 * retired.  When that is above the next version, this key database is
 * older than the main database (restored from an older backup): it makes
 * nothing and answers no version, and the main database fails closed.
 * Makers of one namespace's keys queue on its lock: one new key, never two.
 */
CREATE FUNCTION nsvault_keys.writer_key(namespace text, min_version integer, expected uuid,
										new_version boolean)
RETURNS TABLE (identity uuid, version integer, key bytea)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
	highest integer;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);
	IF min_version IS NULL OR min_version < 1 THEN
		RAISE EXCEPTION 'minimum key version must be positive' USING ERRCODE = '22023';
	END IF;
	IF NOT nsvault_keys.is_expected(expected) THEN
		RETURN QUERY SELECT nsvault_keys.identity(), NULL::integer, NULL::bytea;
		RETURN;
	END IF;
	PERFORM nsvault_keys.lock_namespace(ns);
	highest := nsvault_keys.highest_version(ns);
	IF NOT new_version AND highest >= min_version THEN
		RETURN QUERY
			SELECT nsvault_keys.identity(), k.version, k.key FROM nsvault_keys.keys k
			 WHERE k.namespace = ns AND k.version = highest AND k.key IS NOT NULL;
		IF FOUND THEN
			RETURN;
		END IF;
	END IF;
	IF min_version > highest + 1 THEN
		RETURN QUERY SELECT nsvault_keys.identity(), NULL::integer, NULL::bytea;
		RETURN;
	END IF;
	RETURN QUERY SELECT * FROM nsvault_keys.insert_key(ns, highest + 1);
END
$$;
REVOKE ALL ON FUNCTION nsvault_keys.writer_key(text, integer, uuid, boolean) FROM PUBLIC;

/*
 * The namespace's active key (see writer_key).  When expected is not null
 * and not this key database, it answers only the identity: a main database
 * linked to another key database gets no key here, and none is made.
 */
CREATE FUNCTION nsvault_keys.active_key(namespace text, min_version integer, expected uuid)
RETURNS TABLE (identity uuid, version integer, key bytea)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM nsvault_keys.writer_key(namespace, min_version, expected, false) $$;

/*
 * One version of a namespace's key; key is null when the version was
 * destroyed, and version and key are null when it never existed here.
 */
CREATE FUNCTION nsvault_keys.key_version(namespace text, wanted integer)
RETURNS TABLE (identity uuid, version integer, key bytea)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
	ver integer := wanted;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);
	IF ver IS NULL THEN
		RAISE EXCEPTION 'key version must not be null' USING ERRCODE = '22004';
	END IF;
	RETURN QUERY
		SELECT nsvault_keys.identity(), k.version, k.key
		  FROM (SELECT) one
		  LEFT JOIN nsvault_keys.keys k ON k.namespace = ns AND k.version = ver;
END
$$;

/*
 * A new version of the namespace's key, one above every version it had,
 * which becomes the active one; for rotations, so for the administrator
 * role only.  Made only for a main database that expects this key
 * database (or none yet), and only when min_version is not above it.
 */
CREATE FUNCTION nsvault_keys.add_key_version(namespace text, min_version integer, expected uuid)
RETURNS TABLE (identity uuid, version integer, key bytea)
LANGUAGE sql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM nsvault_keys.writer_key(namespace, min_version, expected, true) $$;

/*
 * The identity and the highest version of a namespace (destroyed ones
 * included, 0 when it has none); key is always null.
 */
CREATE FUNCTION nsvault_keys.describe(namespace text)
RETURNS TABLE (identity uuid, version integer, key bytea)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF namespace IS NOT NULL THEN
		PERFORM nsvault_keys.check_namespace(namespace);
	END IF;
	RETURN QUERY SELECT nsvault_keys.identity(),
						CASE WHEN namespace IS NULL THEN 0
							 ELSE nsvault_keys.highest_version(namespace) END,
						NULL::bytea;
END
$$;

/*
 * Destroys versions first_version to last_version of a namespace's key,
 * for a main database that deleted the namespace or retired the versions,
 * and only when this is the key database it was linked to (expected):
 * otherwise nothing is destroyed.  Answers the identity and how many
 * versions it destroyed now; versions destroyed before are not counted, so
 * asking twice is harmless.
 */
CREATE FUNCTION nsvault_keys.destroy_versions(expected uuid, namespace text,
											  first_version integer, last_version integer)
RETURNS TABLE (identity uuid, version integer, key bytea)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
	destroyed integer := 0;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);
	IF first_version IS NULL OR last_version IS NULL THEN
		RAISE EXCEPTION 'key versions must not be null' USING ERRCODE = '22004';
	END IF;
	IF expected IS NOT NULL AND nsvault_keys.is_expected(expected) THEN
		PERFORM nsvault_keys.lock_namespace(ns);
		UPDATE nsvault_keys.keys k SET key = NULL, destroyed_at = pg_catalog.now()
		 WHERE k.namespace = ns AND k.version BETWEEN first_version AND last_version
		   AND k.key IS NOT NULL;
		GET DIAGNOSTICS destroyed = ROW_COUNT;
	END IF;
	RETURN QUERY SELECT nsvault_keys.identity(), destroyed, NULL::bytea;
END
$$;

/*
 * The key database's own administration tool: destroys one version, which
 * no main database checks first.  Whatever is still sealed under it can
 * never be read again; nsvault.destroy_key_version in the main database
 * refuses while anything is.  The active (highest) version is refused.
 */
CREATE OR REPLACE FUNCTION nsvault_keys.destroy_key(namespace text, version integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
	ver integer := version;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);
	PERFORM nsvault_keys.lock_namespace(ns);
	IF ver IS NOT NULL AND ver = nsvault_keys.highest_version(ns) THEN
		RAISE EXCEPTION 'cannot destroy key version % of namespace "%": it is the active version', ver, ns
			USING ERRCODE = '55000',
				  HINT = 'Rotate the key first (nsvault.rotate_key in the main database), then destroy the old version.';
	END IF;
	UPDATE nsvault_keys.keys k SET key = NULL, destroyed_at = pg_catalog.now()
	 WHERE k.namespace = ns AND k.version = ver AND k.key IS NOT NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'key version % of namespace "%" does not exist or was destroyed', ver, ns
			USING ERRCODE = 'P0002';
	END IF;
END
$$;

/* Grants role USAGE on this schema and EXECUTE on the functions listed. */
CREATE FUNCTION nsvault_keys.grant_functions(role regrole, functions text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF role IS NULL THEN
		RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22004';
	END IF;
	EXECUTE format('GRANT USAGE ON SCHEMA nsvault_keys TO %s', role);
	EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %s', functions, role);
END
$$;
REVOKE ALL ON FUNCTION nsvault_keys.grant_functions(regrole, text) FROM PUBLIC;

/*
 * Lets a login role of the main database read and write with the keys:
 * EXECUTE on the functions that give a namespace's active key (making its
 * first), one version, and the key database's identity, and USAGE on this
 * schema, needed to name them; nothing else.  It can neither rotate nor
 * destroy.
 */
CREATE OR REPLACE FUNCTION nsvault_keys.grant_reader(role regrole) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT nsvault_keys.grant_functions(role,
		'nsvault_keys.active_key(text, integer, uuid), nsvault_keys.key_version(text, integer), '
		'nsvault_keys.describe(text)')
$$;

/*
 * Lets a second login role of the main database, reached through its own
 * foreign server, administer the keys: make new versions (rotation) and
 * destroy retired ones, plus what identifies the key database.
 */
CREATE FUNCTION nsvault_keys.grant_admin(role regrole) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT nsvault_keys.grant_functions(role,
		'nsvault_keys.add_key_version(text, integer, uuid), '
		'nsvault_keys.destroy_versions(uuid, text, integer, integer), nsvault_keys.describe(text)')
$$;
REVOKE ALL ON FUNCTION nsvault_keys.grant_admin(regrole) FROM PUBLIC;

REVOKE ALL ON FUNCTION nsvault_keys.active_key(text, integer, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.key_version(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.add_key_version(text, integer, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.describe(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.destroy_versions(uuid, text, integer, integer) FROM PUBLIC;

/*
 * Roles granted 0.1's functions (by grant_reader) get the new reader's,
 * before 0.1's go and take their grants with them.  Rotation and
 * destruction now need a role granted with grant_admin.
 */
DO $regrant$
DECLARE
	reader regrole;
BEGIN
	FOR reader IN
		SELECT DISTINCT a.grantee::regrole
		  FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
		 WHERE p.oid = 'nsvault_keys.active_key(text)'::pg_catalog.regprocedure
		   AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner
	LOOP
		PERFORM nsvault_keys.grant_reader(reader);
	END LOOP;
END
$regrant$;

DROP FUNCTION nsvault_keys.active_key(text);
DROP FUNCTION nsvault_keys.key(text, integer);
DROP FUNCTION nsvault_keys.rotate_key(text);
DROP FUNCTION nsvault_keys.destroy_namespace(text);
