/* nsvault--0.8--0.9.sql — tables Citus can distribute by namespace */

\echo Use "ALTER EXTENSION nsvault UPDATE TO '0.9'" to load this file. \quit

/*
 * The global and global-private registries move to a table of their own:
 * every row of a table Citus distributes by namespace needs a namespace,
 * and this one becomes a reference table, of which each node has a copy.
 * Rows move as they are: a token's associated data names its scope and no
 * namespace, wherever the row is kept.
 */
CREATE TABLE nsvault.global_registries (
	scope text NOT NULL CHECK (scope IN ('global', 'global-private')),
	registry text NOT NULL,
	url text NOT NULL,
	user_name text NOT NULL,
	token bytea NOT NULL,
	key_version integer NOT NULL CHECK (key_version > 0),
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (scope, registry)
);
REVOKE ALL ON TABLE nsvault.global_registries FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('nsvault.global_registries', '');

INSERT INTO nsvault.global_registries
	(scope, registry, url, user_name, token, key_version, created_at, updated_at)
SELECT scope, registry, url, user_name, token, key_version, created_at, updated_at
  FROM nsvault.registries
 WHERE scope <> 'namespace';
DELETE FROM nsvault.registries WHERE scope <> 'namespace';
ALTER TABLE nsvault.registries
	ALTER COLUMN namespace SET NOT NULL,
	DROP CONSTRAINT registries_scope_check,
	ADD CONSTRAINT registries_scope_check CHECK (scope = 'namespace');

/*
 * A distributed table's unique keys must hold its distribution column:
 * the audit trail's and the key destruction queue's ids stay unique (an
 * identity gives them), and their keys lead with the namespace.
 */
ALTER TABLE nsvault.audit_events
	DROP CONSTRAINT audit_events_pkey,
	ADD CONSTRAINT audit_events_pkey PRIMARY KEY (namespace, id);
ALTER TABLE nsvault.key_destructions
	DROP CONSTRAINT key_destructions_pkey,
	ADD CONSTRAINT key_destructions_pkey PRIMARY KEY (namespace, id);

/*
 * Grants record their role's name beside its OID.  On Citus grants match
 * by the name: each node numbers roles its own way, and Citus copies rows
 * between nodes (distributing a table, moving a shard) with their OIDs as
 * they are.  A role renamed keeps its grants' name up to date.
 */
ALTER TABLE nsvault.grants ADD COLUMN grantee_name name;
UPDATE nsvault.grants g SET grantee_name = r.rolname
  FROM pg_catalog.pg_roles r WHERE r.oid = g.grantee::pg_catalog.oid;
/* a grant of a role dropped from another database, which no role has */
DELETE FROM nsvault.grants WHERE grantee_name IS NULL;
ALTER TABLE nsvault.grants ALTER COLUMN grantee_name SET NOT NULL;

/*
 * distribute(): on a Citus coordinator, once its workers are added, lays
 * nsvault's tables out across them, by a superuser.  Each namespace's rows
 * of every per-namespace table live together, in one shard group: the
 * tables are distributed by namespace and colocated with nsvault.secrets.
 * The key database's identity and the global registries, which every node
 * reads, are reference tables.  Each function that takes a namespace runs
 * on the worker holding it.  Nodes that lack nsvault's version or the key
 * link are named, and nothing is changed.  Running it again changes
 * nothing; a table already distributed otherwise is refused.
 */
CREATE FUNCTION nsvault.distribute()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $distribute$
DECLARE
	per_namespace CONSTANT text[] := ARRAY['secrets', 'secret_versions', 'grants',
		'namespace_keys', 'namespace_settings', 'registries', 'audit_events',
		'key_destructions'];
	global_tables CONSTANT text[] := ARRAY['key_database', 'global_registries'];
	nsvault_version CONSTANT text := (SELECT extversion FROM pg_extension WHERE extname = 'nsvault');
	owner_name CONSTANT text := (SELECT extowner::regrole::text FROM pg_extension
								  WHERE extname = 'nsvault');
	node_check text;
	problems text;
	node record;
	tbl text;
	colocation integer;
	dist record;
	fn regprocedure;
	grant_command text;
BEGIN
	IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = 'permission denied for function distribute',
			DETAIL = 'Only a superuser may distribute nsvault''s tables.';
	END IF;
	IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'extension "citus" is not installed in this database',
			HINT = 'nsvault.distribute() runs on a Citus coordinator, after citus_add_node has added its workers.';
	END IF;
	IF (SELECT groupid FROM pg_dist_local_group) <> 0 THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'nsvault.distribute() must run on the Citus coordinator';
	END IF;

	/*
	 * What each node lacks, in its own words: nsvault's files of this
	 * version, the extension at another version, the key link's foreign
	 * servers (under the names that node's settings give, or the default
	 * names) and a user mapping for the extension's owner or PUBLIC.
	 */
	node_check := pg_catalog.format($check$
SELECT pg_catalog.concat_ws('.  ',
  CASE WHEN NOT EXISTS (SELECT FROM pg_catalog.pg_available_extension_versions
                         WHERE name = 'nsvault' AND version = %1$L)
       THEN 'The files of nsvault %1$s are not installed' END,
  (SELECT 'The nsvault extension is at version ' || extversion FROM pg_catalog.pg_extension
    WHERE extname = 'nsvault' AND extversion <> %1$L),
  (SELECT pg_catalog.string_agg('No foreign server ' || pg_catalog.quote_ident(s)
                                 || ' with a user mapping for ' || %2$L || ' or PUBLIC', '.  ')
     FROM pg_catalog.unnest(ARRAY[coalesce(pg_catalog.current_setting('nsvault.keydb_server', true), 'nsvault_keydb')]
                            || CASE WHEN %3$L THEN ARRAY[coalesce(pg_catalog.current_setting('nsvault.keydb_admin_server', true), 'nsvault_keydb_admin')] END) s
    WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_user_mapping m
                        JOIN pg_catalog.pg_foreign_server f ON f.oid = m.umserver
                       WHERE f.srvname = s
                         AND (m.umuser = 0 OR m.umuser = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = %2$L)))))
$check$, nsvault_version, owner_name,
		EXISTS (SELECT FROM pg_foreign_server
				 WHERE srvname = coalesce(current_setting('nsvault.keydb_admin_server', true),
										  'nsvault_keydb_admin')));
	EXECUTE node_check INTO problems;
	IF problems <> '' THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'the coordinator is not ready for nsvault.distribute()',
			DETAIL = problems || '.';
	END IF;
	FOR node IN SELECT * FROM run_command_on_workers(node_check) LOOP
		IF NOT node.success OR node.result <> '' THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = pg_catalog.format('worker %s:%s is not ready for nsvault.distribute()',
											node.nodename, node.nodeport),
				DETAIL = CASE WHEN node.success THEN node.result || '.'
							  ELSE 'It could not be asked: ' || node.result END,
				HINT = 'Install nsvault there, and link it to the key database as the coordinator is linked: see "Scaling out with Citus" in nsvault''s operations guide.  Nothing was changed.';
		END IF;
	END LOOP;

	/* tables already in Citus's metadata must be as this would make them */
	FOR dist IN
		SELECT c.relname, p.partmethod, p.repmodel, p.colocationid,
			   column_to_column_name(p.logicalrelid, p.partkey) AS column_name
		  FROM pg_dist_partition p
		  JOIN pg_class c ON c.oid = p.logicalrelid
		 WHERE c.relnamespace = 'nsvault'::regnamespace
	LOOP
		IF dist.relname = ANY (global_tables) AND (dist.partmethod <> 'n' OR dist.repmodel <> 't')
		   OR dist.relname = ANY (per_namespace)
			  AND (dist.partmethod <> 'h' OR dist.column_name IS DISTINCT FROM 'namespace')
		   OR NOT (dist.relname = ANY (per_namespace || global_tables)) THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = pg_catalog.format('table "nsvault.%s" is distributed otherwise than nsvault.distribute() would', dist.relname),
				DETAIL = CASE WHEN dist.relname = ANY (global_tables)
							  THEN 'It must be a reference table.'
							  WHEN dist.relname = ANY (per_namespace)
							  THEN 'It must be distributed by column namespace.'
							  ELSE 'nsvault reads no distributed table of its schema but its own.' END;
		END IF;
	END LOOP;

	/* the names grants match by once distributed, as the OIDs say now */
	IF NOT EXISTS (SELECT FROM pg_dist_partition
					WHERE logicalrelid = 'nsvault.grants'::regclass) THEN
		UPDATE nsvault.grants g SET grantee_name = r.rolname
		  FROM pg_roles r
		 WHERE r.oid = g.grantee::oid AND g.grantee_name <> r.rolname;
	END IF;

	/* per-namespace tables: one shard group per namespace */
	FOREACH tbl IN ARRAY per_namespace LOOP
		IF NOT EXISTS (SELECT FROM pg_dist_partition
						WHERE logicalrelid = pg_catalog.format('nsvault.%I', tbl)::regclass) THEN
			PERFORM create_distributed_table(pg_catalog.format('nsvault.%I', tbl)::regclass, 'namespace',
				colocate_with => CASE WHEN tbl = 'secrets' THEN 'none' ELSE 'nsvault.secrets' END);
		END IF;
		/* the rows Citus copied to the shards stay on the coordinator's disk otherwise */
		PERFORM truncate_local_data_after_distributing_table(pg_catalog.format('nsvault.%I', tbl)::regclass);
	END LOOP;
	SELECT p.colocationid INTO colocation FROM pg_dist_partition p
	 WHERE p.logicalrelid = 'nsvault.secrets'::regclass;
	SELECT c.relname INTO tbl
	  FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
	 WHERE c.relname = ANY (per_namespace) AND c.relnamespace = 'nsvault'::regnamespace
	   AND p.colocationid <> colocation
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = pg_catalog.format('table "nsvault.%s" is not colocated with nsvault.secrets', tbl),
			DETAIL = 'A namespace''s rows of every table must live on one worker.';
	END IF;

	/*
	 * Each worker numbers the audit events and key destructions it inserts
	 * from a range of its own (its group's number times 2^48), above what
	 * the coordinator numbered before: ids stay unique per namespace
	 * whichever node inserts.
	 */
	FOR node IN SELECT * FROM run_command_on_workers($sequences$
SELECT pg_catalog.count(pg_catalog.setval(s, greatest(
		 coalesce(pg_catalog.pg_sequence_last_value(s), 0),
		 (SELECT groupid::bigint FROM pg_catalog.pg_dist_local_group) << 48)))
  FROM pg_catalog.unnest(ARRAY[pg_catalog.pg_get_serial_sequence('nsvault.audit_events', 'id'),
							   pg_catalog.pg_get_serial_sequence('nsvault.key_destructions', 'id')]::pg_catalog.regclass[]) s
$sequences$) LOOP
		IF NOT node.success THEN
			RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = pg_catalog.format('could not set the id ranges of worker %s:%s',
											node.nodename, node.nodeport),
				DETAIL = node.result;
		END IF;
	END LOOP;

	FOREACH tbl IN ARRAY global_tables LOOP
		IF NOT EXISTS (SELECT FROM pg_dist_partition
						WHERE logicalrelid = pg_catalog.format('nsvault.%I', tbl)::regclass) THEN
			PERFORM create_reference_table(pg_catalog.format('nsvault.%I', tbl)::regclass);
		END IF;
		PERFORM truncate_local_data_after_distributing_table(pg_catalog.format('nsvault.%I', tbl)::regclass);
	END LOOP;

	/*
	 * Each function of a namespace runs on the worker that holds it, but
	 * for two kinds that stay on the coordinator.  Granting and revoking
	 * grant and revoke EXECUTE rights: Citus runs such commands only on
	 * the coordinator, which passes them on to every node.  The writes
	 * that carry a value (set_secret, set_registry): Citus would send the
	 * call, value and all, as the text of a query to the worker, where it
	 * would show in pg_stat_activity and the server log; on the
	 * coordinator the value is sealed before anything leaves it.
	 */
	FOR fn IN
		SELECT p.oid::regprocedure FROM pg_proc p
		 WHERE p.pronamespace = 'nsvault'::regnamespace
		   AND p.proargnames[1] = 'namespace'
		   AND p.proname NOT IN ('grant_namespace', 'revoke_namespace',
								 'set_secret', 'set_registry')
		 ORDER BY 1
	LOOP
		PERFORM create_distributed_function(fn, 'namespace',
											colocate_with => 'nsvault.secrets');
	END LOOP;

	/*
	 * The rights grant_namespace gave before (on the schema, the functions
	 * and the audit log), given again on every worker: nsvault there was
	 * made as its script makes it, without them.  Each worker is told
	 * itself, as Citus passes grants on only for some objects.
	 */
	FOR grant_command IN
		SELECT pg_catalog.format('GRANT %s ON %s %s TO %I', a.privilege_type, o.kind, o.name,
								 r.rolname)
		  FROM (SELECT 'SCHEMA' AS kind, 'nsvault' AS name, n.nspacl AS acl, n.nspowner AS owner
				  FROM pg_namespace n WHERE n.nspname = 'nsvault'
				UNION ALL
				SELECT 'FUNCTION', p.oid::regprocedure::text, p.proacl, p.proowner
				  FROM pg_proc p WHERE p.pronamespace = 'nsvault'::regnamespace
				UNION ALL
				SELECT 'TABLE', c.oid::regclass::text, c.relacl, c.relowner
				  FROM pg_class c WHERE c.relnamespace = 'nsvault'::regnamespace
				   AND c.relkind = 'v') o,
			   aclexplode(o.acl) a
		  JOIN pg_roles r ON r.oid = a.grantee
		 WHERE a.grantee <> o.owner
		 ORDER BY 1
	LOOP
		FOR node IN SELECT * FROM run_command_on_workers(
			'SET citus.enable_ddl_propagation = off; ' || grant_command) LOOP
			IF NOT node.success THEN
				RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
					MESSAGE = pg_catalog.format('could not give worker %s:%s the rights nsvault''s grants give',
												node.nodename, node.nodeport),
					DETAIL = node.result;
			END IF;
		END LOOP;
	END LOOP;
END
$distribute$;
REVOKE ALL ON FUNCTION nsvault.distribute() FROM PUBLIC;
