// One (:Merchant) node per merchant id that accounts paid.
CREATE CONSTRAINT fg_merchant_id IF NOT EXISTS
FOR (m:Merchant) REQUIRE m.merchant_id IS UNIQUE
