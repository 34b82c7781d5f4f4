// One (:Notice) per customer notice id.
CREATE CONSTRAINT fg_notice_id IF NOT EXISTS
FOR (n:Notice) REQUIRE n.notice_id IS UNIQUE
