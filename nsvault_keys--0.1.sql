/* nsvault_keys--0.1.sql — the key database's per-namespace keys */

\echo Use "CREATE EXTENSION nsvault_keys" to load this file. \quit

/*
 * One random 256-bit key per namespace and version.  Key namespaces that
 * start with "@" are reserved for nsvault itself; user namespaces cannot
 * start with "@" in the main database.
 */
CREATE TABLE nsvault_keys.keys (
	namespace text NOT NULL
		CHECK (namespace ~ '^@?[a-z][a-z0-9._-]{0,63}$'),
	version integer NOT NULL CHECK (version > 0),
	key bytea NOT NULL CHECK (pg_catalog.octet_length(key) = 32),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (namespace, version)
);
REVOKE ALL ON TABLE nsvault_keys.keys FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault_keys.keys', '');

/*
 * PostgreSQL 15 has no @extschema:pgcrypto@, so the key generator is made
 * here with pgcrypto's schema written into its body: callers' search_path
 * never decides which gen_random_bytes runs.
 */
DO $install$
DECLARE
	crypto_schema name;
BEGIN
	SELECT n.nspname INTO STRICT crypto_schema
	  FROM pg_catalog.pg_extension e
	  JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
	 WHERE e.extname = 'pgcrypto';

	EXECUTE pg_catalog.format(
		$f$CREATE FUNCTION nsvault_keys.new_key() RETURNS bytea
		   LANGUAGE sql VOLATILE
		   SET search_path = pg_catalog, pg_temp
		   AS 'SELECT %I.gen_random_bytes(32)'$f$,
		crypto_schema);
END
$install$;
REVOKE ALL ON FUNCTION nsvault_keys.new_key() FROM PUBLIC;

/* Rejects anything that is not a valid key namespace. */
CREATE FUNCTION nsvault_keys.check_namespace(namespace text) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF namespace IS NULL OR namespace !~ '^@?[a-z][a-z0-9._-]{0,63}$' THEN
		RAISE EXCEPTION 'invalid key namespace'
			USING ERRCODE = '22023',
				  DETAIL = 'A key namespace is 1 to 64 lowercase letters, digits, "-", "_" or ".", starting with a letter.';
	END IF;
END
$$;
REVOKE ALL ON FUNCTION nsvault_keys.check_namespace(text) FROM PUBLIC;

/*
 * Serializes the making of a namespace's keys (first use, rotation) until
 * the end of the caller's transaction.
 */
CREATE FUNCTION nsvault_keys.lock_namespace(namespace text) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('nsvault_keys.keys'),
											 pg_catalog.hashtext(namespace)) $$;
REVOKE ALL ON FUNCTION nsvault_keys.lock_namespace(text) FROM PUBLIC;

/*
 * Returns the namespace's current key, creating version 1 on first use.
 * A concurrent first call, or rotation, holds the namespace's lock until
 * it commits; then DO NOTHING, and the second SELECT runs with a new
 * snapshot and so returns the winner's key: one key, never two.
 */
CREATE FUNCTION nsvault_keys.active_key(namespace text)
RETURNS TABLE (version integer, key bytea)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);

	RETURN QUERY
		SELECT k.version, k.key FROM nsvault_keys.keys k
		 WHERE k.namespace = ns ORDER BY k.version DESC LIMIT 1;
	IF FOUND THEN
		RETURN;
	END IF;

	-- a rotation running now would otherwise make version 1 too
	PERFORM nsvault_keys.lock_namespace(ns);
	INSERT INTO nsvault_keys.keys AS k (namespace, version, key)
	VALUES (ns, 1, nsvault_keys.new_key())
	ON CONFLICT ON CONSTRAINT keys_pkey DO NOTHING;

	RETURN QUERY
		SELECT k.version, k.key FROM nsvault_keys.keys k
		 WHERE k.namespace = ns ORDER BY k.version DESC LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'could not create a key for namespace "%"', ns
			USING ERRCODE = '40001',
				  HINT = 'Call active_key() again in READ COMMITTED isolation.';
	END IF;
END
$$;

/* Returns one version of a namespace's key. */
CREATE FUNCTION nsvault_keys.key(namespace text, version integer)
RETURNS bytea
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
	ver integer := version;
	found_key bytea;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);
	IF ver IS NULL THEN
		RAISE EXCEPTION 'key version must not be null' USING ERRCODE = '22004';
	END IF;

	SELECT k.key INTO found_key FROM nsvault_keys.keys k
	 WHERE k.namespace = ns AND k.version = ver;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'key version % of namespace "%" does not exist', ver, ns
			USING ERRCODE = 'P0002';
	END IF;
	RETURN found_key;
END
$$;

/*
 * Makes a new key version for the namespace, which becomes its active key.
 * Rotations and the first use of one namespace queue on its lock.
 */
CREATE FUNCTION nsvault_keys.rotate_key(namespace text)
RETURNS TABLE (version integer, key bytea)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
	next_version integer;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);
	PERFORM nsvault_keys.lock_namespace(ns);
	SELECT coalesce(max(k.version), 0) + 1 INTO next_version
	  FROM nsvault_keys.keys k WHERE k.namespace = ns;
	RETURN QUERY
		INSERT INTO nsvault_keys.keys AS k (namespace, version, key)
		VALUES (ns, next_version, nsvault_keys.new_key())
		RETURNING k.version, k.key;
END
$$;

/*
 * Destroys one version of a namespace's key: whatever was sealed under it
 * can never be read again.  The active (newest) version is refused.
 */
CREATE FUNCTION nsvault_keys.destroy_key(namespace text, version integer)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
	ver integer := version;
	active integer;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);
	SELECT max(k.version) INTO active FROM nsvault_keys.keys k WHERE k.namespace = ns;
	IF ver IS NOT NULL AND ver = active THEN
		RAISE EXCEPTION 'cannot destroy key version % of namespace "%": it is the active version', ver, ns
			USING ERRCODE = '55000',
				  HINT = 'Rotate the key first (nsvault.rotate_key in the main database), then destroy the old version.';
	END IF;
	DELETE FROM nsvault_keys.keys k WHERE k.namespace = ns AND k.version = ver;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'key version % of namespace "%" does not exist', ver, ns
			USING ERRCODE = 'P0002';
	END IF;
END
$$;

/* Destroys every key of a namespace; returns how many versions went. */
CREATE FUNCTION nsvault_keys.destroy_namespace(namespace text)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
	ns text := namespace;
	destroyed integer;
BEGIN
	PERFORM nsvault_keys.check_namespace(ns);
	DELETE FROM nsvault_keys.keys k WHERE k.namespace = ns;
	GET DIAGNOSTICS destroyed = ROW_COUNT;
	RETURN destroyed;
END
$$;

/*
 * Lets a login role of the main database use the keys: EXECUTE on the
 * functions the main database calls (fetch, rotate, and destroy a whole
 * namespace for nsvault.delete_namespace) and USAGE on this schema, needed
 * to name them; nothing else.  destroy_key stays with the key database's
 * administrators.
 */
CREATE FUNCTION nsvault_keys.grant_reader(role regrole) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF role IS NULL THEN
		RAISE EXCEPTION 'role must not be null' USING ERRCODE = '22004';
	END IF;
	EXECUTE format('GRANT USAGE ON SCHEMA nsvault_keys TO %s', role);
	EXECUTE format('GRANT EXECUTE ON FUNCTION nsvault_keys.active_key(text), '
				   'nsvault_keys.key(text, integer), nsvault_keys.rotate_key(text), '
				   'nsvault_keys.destroy_namespace(text) TO %s', role);
END
$$;

REVOKE ALL ON FUNCTION nsvault_keys.active_key(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.key(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.rotate_key(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.destroy_key(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.destroy_namespace(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION nsvault_keys.grant_reader(regrole) FROM PUBLIC;
