//! The table's key schema, for tests and local emulators. `template.yaml` declares the
//! same table for AWS (a test checks they agree).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType,
    TimeToLiveSpecification,
};

/// Creates the single table (PK/SK strings, on-demand, TTL on `ttl`) and its keys-only
/// `schedule` index, and the sparse `open` index projecting whole open tasks.
pub async fn create_table(client: &Client, table: &str) -> anyhow::Result<()> {
    let attribute = |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    // A global index on two string keys.
    let index = |name: &str, (partition, sort): (&str, &str), projection: ProjectionType| {
        GlobalSecondaryIndex::builder()
            .index_name(name)
            .key_schema(key(partition, KeyType::Hash)?)
            .key_schema(key(sort, KeyType::Range)?)
            .projection(Projection::builder().projection_type(projection).build())
            .build()
    };
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute("PK")?)
        .attribute_definitions(attribute("SK")?)
        .key_schema(key("PK", KeyType::Hash)?)
        .key_schema(key("SK", KeyType::Range)?)
        .attribute_definitions(attribute("sched_pk")?)
        .attribute_definitions(attribute("sched_sk")?)
        .global_secondary_indexes(index(super::SCHEDULE_INDEX, ("sched_pk", "sched_sk"), ProjectionType::KeysOnly)?)
        .attribute_definitions(attribute("open_pk")?)
        .attribute_definitions(attribute("open_sk")?)
        .global_secondary_indexes(index(super::OPEN_INDEX, ("open_pk", "open_sk"), ProjectionType::All)?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("create table {table}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(TimeToLiveSpecification::builder().attribute_name("ttl").enabled(true).build()?)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("enable TTL on {table}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    Ok(())
}
