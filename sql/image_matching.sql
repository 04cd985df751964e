--
-- image_matching: which registry docker_config picks for an image reference
--
SELECT nsvault.set_registry('match', 'https://index.docker.io/v1/', 'hub:t');
SELECT nsvault.set_registry('match', 'quay.io', 'quay:t');
SELECT nsvault.set_registry('match', 'https://quay.io/org', 'quay-org:t');
SELECT nsvault.set_registry('match', 'localhost:5000', 'local:t');
SELECT nsvault.set_registry('match', 'https://ghcr.io/v2/', 'ghcr:t');
SELECT nsvault.set_registry('match', 'https://registry.example.com:8443/team/', 'team:t');
SELECT nsvault.set_registry('match', 'http://[::1]:5000', 'ipv6:t');

SELECT image,
	   (SELECT string_agg(k, ', ') FROM jsonb_object_keys(nsvault.docker_config('match', image) -> 'auths') k)
	   AS registry
  FROM (VALUES
	('ubuntu'),
	('ubuntu:22.04'),
	('library/ubuntu'),
	('docker.io/library/ubuntu'),
	('docker.io/ubuntu'),
	('index.docker.io/ubuntu'),
	('registry-1.docker.io/library/ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'),
	('someone/app'),
	('someone/app:v1.2.3-rc_1'),
	('quay.io/org/app:1.0'),
	('quay.io/org/team/app'),
	('quay.io/org'),
	('quay.io/organisation/app'),
	('quay.io/other/app'),
	('QUAY.IO/org/app'),
	('localhost:5000/app'),
	('localhost:5000/group/app:dev'),
	('localhost/app'),
	('localhost:5001/app'),
	('ghcr.io/owner/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'),
	('ghcr.io/owner/app:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'),
	('ghcr.io.example.com/owner/app'),
	('example.ghcr.io/app'),
	('ghcr.io:443/owner/app'),
	('registry.example.com:8443/team/app'),
	('registry.example.com:8443/team/sub/app'),
	('registry.example.com:8443/teamwork/app'),
	('registry.example.com/team/app'),
	('[::1]:5000/app'),
	('someone/a.b-c_d__e--f')
  ) AS t(image);

-- references Docker would refuse: 22023, nothing echoed
SELECT image, regress_error(format('SELECT nsvault.docker_config(%L, %L)', 'match', image)) AS error
  FROM (VALUES
	(''),
	('Ubuntu'),
	('quay.io/Org/app'),
	('ubuntu:'),
	('ubuntu:-bad'),
	('ubuntu@sha256:abc'),
	('ubuntu@'),
	('@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'),
	('quay.io:99999/app'),
	('a//b'),
	('-app'),
	('app-'),
	('a___b'),
	('quay.io/'),
	(' ubuntu'),
	('ex_ample.com/app')
  ) AS t(image);
