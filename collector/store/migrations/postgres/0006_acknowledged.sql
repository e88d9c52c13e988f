-- One acknowledgement a day per site and mailbox, enforced by the primary key: the
-- address's hash is that of its normalised form (lower case, no +tag, no dots where the
-- provider ignores them), so variants of one address count once. Old days are forgotten.
CREATE TABLE acknowledged (
    site_key      TEXT NOT NULL REFERENCES sites(key) ON DELETE CASCADE,
    address_hash  TEXT NOT NULL,
    day           BIGINT NOT NULL,
    PRIMARY KEY (site_key, address_hash, day)
);
