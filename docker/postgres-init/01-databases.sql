-- One database per service: services never read each other's tables.
CREATE DATABASE auth;
CREATE DATABASE billing;
CREATE DATABASE pdf;
