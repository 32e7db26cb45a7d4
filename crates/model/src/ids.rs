//! Dense typed indices. Every entity lives in a `Vec` and is named by its index, so state
//! is arrays of counts and iteration order is always index order (never hash order).

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The index as a `usize`.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl From<usize> for $name {
            fn from(i: usize) -> Self {
                $name(i as u32)
            }
        }
    };
}

id!(
    /// A datacenter (Active Directory site).
    SiteId
);
id!(
    /// A WAN link between two sites.
    LinkId
);
id!(
    /// A server: a mailbox server (possibly a DAG member) or a witness server.
    ServerId
);
id!(
    /// A mailbox database.
    DatabaseId
);
id!(
    /// A mailbox group (the world's `Home`): the users whose mailboxes were on one
    /// original database. Groups are numbered like their original databases.
    HomeId
);
id!(
    /// A cohort: the users of one mailbox group on one client kind.
    CohortId
);
id!(
    /// A phase bucket of a cohort's users.
    BucketId
);
