//! Agents as files: export one (a versioned JSON document that names its providers, since ids
//! mean nothing in another workspace), import one as a new agent, clone one. Import and clone
//! make the agent through the same validation as creating one, with an audit entry, and say
//! what could not be carried over as it was (a provider that is not here, a taken name).

use serde_json::json;
use wire::agents::{
    AGENT_EXPORT_FORMAT, AGENT_EXPORT_VERSION, AgentExport, AgentTemplate, FallbackRef,
    FallbackTarget, ImportedAgent, ProviderRef,
};
use wire::providers::Provider;

use super::Caller;
use crate::auth::Principal;
use crate::domain::MemberRole;
use crate::store::agents::{self, AgentInput};
use crate::{Error, Result, Store};

/// An agent as an export file (anyone in the workspace may read it).
pub async fn export(store: &Store, who: &Principal, id: &str) -> Result<AgentExport> {
    let ws = &who.workspace_id;
    let agent = agents::show(store.pool(), ws, id).await?;
    let knowledge = crate::store::knowledge::for_prompt(store.pool(), id)
        .await?
        .into_iter()
        .map(|(name, content)| wire::knowledge::KnowledgeDoc { name, content })
        .collect();
    let providers = crate::store::providers::list(store.pool(), ws).await?;
    let named = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| providers.iter().find(|p| &p.id == id))
            .map(|p| ProviderRef {
                name: p.name.clone(),
                kind: p.kind.clone(),
            })
    };
    Ok(AgentExport {
        format: AGENT_EXPORT_FORMAT.to_owned(),
        version: AGENT_EXPORT_VERSION,
        agent: AgentTemplate {
            provider: named(&agent.provider_id),
            fallbacks: agent
                .fallbacks
                .iter()
                .map(|f| FallbackRef {
                    provider: named(&f.provider_id),
                    model: f.model.clone(),
                })
                .collect(),
            name: agent.name,
            role: agent.role,
            description: agent.description,
            model: agent.model,
            temperature: agent.temperature,
            max_tokens: agent.max_tokens,
            system_prompt: agent.system_prompt,
            custom_instructions: agent.custom_instructions,
            tags: agent.tags,
            tools: agent.tools,
            knowledge,
            input_schema: agent.input_schema,
            output_schema: agent.output_schema,
        },
    })
}

/// Makes a new agent from an export file (developers and admins).
pub async fn import(store: &Store, caller: Caller<'_>, file: AgentExport) -> Result<ImportedAgent> {
    caller.who.require(MemberRole::Developer)?;
    if file.format != AGENT_EXPORT_FORMAT {
        return Err(Error::invalid(
            "format",
            format!("must be \"{AGENT_EXPORT_FORMAT}\""),
        ));
    }
    if file.version != AGENT_EXPORT_VERSION {
        return Err(Error::invalid(
            "version",
            format!(
                "must be {AGENT_EXPORT_VERSION}: this Fleetdeck reads version {AGENT_EXPORT_VERSION} files"
            ),
        ));
    }
    make_from(store, caller, file.agent, "agent.import", "Imported", None).await
}

/// Makes a copy of an agent ("Name (copy)"), with its prompt as its first version.
pub async fn clone(store: &Store, caller: Caller<'_>, id: &str) -> Result<ImportedAgent> {
    caller.who.require(MemberRole::Developer)?;
    let file = export(store, caller.who, id).await?;
    let note = format!("Cloned from {}", file.agent.name);
    make_from(store, caller, file.agent, "agent.clone", &note, Some(id)).await
}

/// The provider a reference names here: the same name and kind, else the first of that kind
/// (noted), else none — the workspace default (noted).
fn provider_here(
    providers: &[Provider],
    wanted: Option<&ProviderRef>,
    what: &str,
    notes: &mut Vec<String>,
) -> Option<String> {
    let wanted = wanted?;
    if let Some(p) = providers
        .iter()
        .find(|p| p.name == wanted.name && p.kind == wanted.kind)
    {
        return Some(p.id.clone());
    }
    if let Some(p) = providers.iter().find(|p| p.kind == wanted.kind) {
        notes.push(format!(
            "{what}: no provider named \"{}\" here; \"{}\" ({}) is used",
            wanted.name, p.name, p.kind
        ));
        return Some(p.id.clone());
    }
    notes.push(format!(
        "{what}: no {} provider in this workspace; the workspace default is used",
        wanted.kind
    ));
    None
}

/// `name`, or the first of "name (copy)", "name (copy 2)", … not taken in `taken`.
fn free_name(name: &str, taken: &[String]) -> String {
    let name = name.trim();
    let free = |candidate: &str| !taken.iter().any(|t| t.eq_ignore_ascii_case(candidate));
    if free(name) {
        return name.to_owned();
    }
    (1..)
        .map(|n| match n {
            1 => format!("{name} (copy)"),
            n => format!("{name} (copy {n})"),
        })
        .find(|c| free(c))
        .unwrap_or_else(|| name.to_owned())
}

/// Makes an agent from a template's fields (import, clone, templates share it).
pub(crate) async fn make_from(
    store: &Store,
    caller: Caller<'_>,
    t: AgentTemplate,
    action: &str,
    version_note: &str,
    source: Option<&str>,
) -> Result<ImportedAgent> {
    let ws = &caller.who.workspace_id;
    let providers = crate::store::providers::list(store.pool(), ws).await?;
    let mut notes = Vec::new();
    let provider_id = provider_here(&providers, t.provider.as_ref(), "provider", &mut notes);
    let fallbacks = t
        .fallbacks
        .iter()
        .enumerate()
        .map(|(i, f)| FallbackTarget {
            provider_id: provider_here(
                &providers,
                f.provider.as_ref(),
                &format!("fallbacks[{i}]"),
                &mut notes,
            ),
            model: f.model.clone(),
        })
        .collect();
    let taken = agents::names_like(store.pool(), ws, t.name.trim()).await?;
    let name = free_name(&t.name, &taken);
    if name != t.name.trim() {
        notes.push(format!("the name \"{}\" was taken", t.name.trim()));
    }
    let input = AgentInput {
        name: Some(name),
        role: Some(t.role),
        description: Some(t.description),
        provider_id: Some(provider_id.unwrap_or_default()),
        model: Some(t.model),
        temperature: Some(t.temperature),
        max_tokens: Some(t.max_tokens),
        system_prompt: Some(t.system_prompt),
        custom_instructions: Some(t.custom_instructions),
        tags: Some(t.tags),
        tools: Some(t.tools),
        fallbacks: Some(fallbacks),
        // A copy starts private, whatever the original.
        is_public: None,
        input_schema: t.input_schema.map(Some),
        output_schema: t.output_schema.map(Some),
        version_note: None,
    };
    let agent = agents::resolve(input, None)?;
    agent.validate()?;
    super::knowledge::check_set(&t.knowledge)?;
    agents::check_providers(store, ws, &agent).await?;
    let mut tx = store.begin().await?;
    let id = agents::create(&mut tx, ws, &agent).await?;
    for doc in &t.knowledge {
        super::knowledge::insert_in(&mut tx, ws, &id, doc, &caller.who.user_id).await?;
    }
    sqlx::query("UPDATE prompt_versions SET created_by = $2, note = $3 WHERE agent_id = $1")
        .bind(&id)
        .bind(&caller.who.user_id)
        .bind(version_note)
        .execute(&mut *tx)
        .await?;
    let out = agents::show(&mut *tx, ws, &id).await?;
    caller
        .audit(
            &mut tx,
            action,
            format!("agent:{id}"),
            json!({ "name": out.name, "role": out.role, "source": source }),
        )
        .await?;
    tx.commit().await?;
    Ok(ImportedAgent { agent: out, notes })
}

#[cfg(test)]
mod tests {
    use super::free_name;

    #[test]
    fn a_taken_name_gets_the_first_free_copy_suffix() {
        let taken = vec!["Planner".to_owned(), "planner (copy)".to_owned()];
        assert_eq!(free_name(" Reviewer ", &taken), "Reviewer");
        assert_eq!(free_name("Planner", &taken), "Planner (copy 2)");
    }
}
