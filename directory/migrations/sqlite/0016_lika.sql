-- The hosted licence API ("Hosted LIKA") of the partner listener: a publisher's methods and
-- products and who may use them, written by the publisher itself.
--
-- A LIKA product is a product of openpoort (a row in products, its code the publisher's product
-- id), so that tiles, icons, launches and the release decision treat it as any other; what only
-- LIKA knows about it sits in lika_products. Access lists hold the numbers the publisher sent:
-- its pairwise numbers of users (lika_user_access) or of schools with an ECK-iD
-- (lika_eck_access). They are one-way, so a decision computes the user's and school's numbers
-- for the party and looks them up here (indexed by party and number); no table maps numbers back
-- to people. A list entry names a method or a product, never both.
--
-- The read cache (register_version, 0009) counts changes to these tables like those to products.

-- URL prefixes (https, host, port, optional path prefix) a party's LIKA methods and products may
-- point to, registered by the operator.
CREATE TABLE party_url_prefixes (
    party_id   TEXT NOT NULL REFERENCES parties(id),
    prefix     TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (party_id, prefix)
);

CREATE TABLE lika_methods (
    id         TEXT PRIMARY KEY,
    party_id   TEXT NOT NULL REFERENCES parties(id),
    method     TEXT NOT NULL,
    code       TEXT,
    name       TEXT NOT NULL,
    icon       TEXT,
    icon_url   TEXT,
    url        TEXT,
    tags       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (party_id, method)
);

CREATE TABLE lika_products (
    product_id TEXT PRIMARY KEY REFERENCES products(id) ON DELETE CASCADE,
    method_id  TEXT NOT NULL REFERENCES lika_methods(id),
    code       TEXT,
    icon       TEXT,
    tags       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX lika_products_by_method ON lika_products (method_id);

-- Whether the product's icon is stored in the register (lika_products.icon) rather than fetched
-- from icon_url: the portal needs to know without reading the image.
ALTER TABLE products ADD COLUMN icon_stored BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE lika_user_access (
    party_id    TEXT NOT NULL REFERENCES parties(id),
    method_id   TEXT REFERENCES lika_methods(id) ON DELETE CASCADE,
    product_id  TEXT REFERENCES products(id) ON DELETE CASCADE,
    user_number BIGINT NOT NULL,
    CHECK ((method_id IS NULL) <> (product_id IS NULL)),
    UNIQUE (method_id, user_number),
    UNIQUE (product_id, user_number)
);
CREATE INDEX lika_user_access_by_number ON lika_user_access (party_id, user_number);

CREATE TABLE lika_eck_access (
    party_id      TEXT NOT NULL REFERENCES parties(id),
    method_id     TEXT REFERENCES lika_methods(id) ON DELETE CASCADE,
    product_id    TEXT REFERENCES products(id) ON DELETE CASCADE,
    school_number BIGINT NOT NULL,
    eck_id        TEXT NOT NULL,
    CHECK ((method_id IS NULL) <> (product_id IS NULL)),
    UNIQUE (method_id, school_number, eck_id),
    UNIQUE (product_id, school_number, eck_id)
);
CREATE INDEX lika_eck_access_by_eck ON lika_eck_access (party_id, eck_id, school_number);

CREATE TRIGGER lika_methods_insert_counts AFTER INSERT ON lika_methods
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_methods_update_counts AFTER UPDATE ON lika_methods
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_methods_delete_counts AFTER DELETE ON lika_methods
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_products_insert_counts AFTER INSERT ON lika_products
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_products_update_counts AFTER UPDATE ON lika_products
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_products_delete_counts AFTER DELETE ON lika_products
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_user_access_insert_counts AFTER INSERT ON lika_user_access
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_user_access_update_counts AFTER UPDATE ON lika_user_access
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_user_access_delete_counts AFTER DELETE ON lika_user_access
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_eck_access_insert_counts AFTER INSERT ON lika_eck_access
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_eck_access_update_counts AFTER UPDATE ON lika_eck_access
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER lika_eck_access_delete_counts AFTER DELETE ON lika_eck_access
BEGIN
    UPDATE register_version SET version = version + 1 WHERE id = 1;
END;
